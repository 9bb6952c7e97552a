"""The shared library of approved answers and key messages, and filling in their {{variables}}."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.contacts.names import display_name, first_word
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.library.models import KINDS, Answer

VARIABLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
# Who may change the library: it is the organization's common message.
EDITORS = frozenset({"admin", "coordinator", "manager"})


def search(session: Session, q: str | None = None, limit: int = 50) -> list[Answer]:
    query = select(Answer).where(Answer.active.is_(True))
    for word in (q or "").split()[:6]:
        like = f"%{word}%"
        query = query.where(or_(Answer.title.ilike(like), Answer.body.ilike(like)))
    return list(session.scalars(query.order_by(Answer.kind, Answer.title).limit(limit)))


def get(session: Session, answer_id: int) -> Answer:
    answer = session.get(Answer, answer_id)
    if answer is None or not answer.active:
        raise NotFound(f"no answer {answer_id}")
    return answer


def _check(who: Principal) -> None:
    if who.role not in EDITORS:
        raise Forbidden("only admins, coordinators and managers edit the library")


def _clean(title: str, body: str, kind: str, tags: str | list | None) -> dict:
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise InvalidInput("an answer needs a title and a text")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    return {"title": title[:200], "body": body, "kind": kind, "tags": [t for t in (tags or []) if t][:20]}


def create(session: Session, who: Principal, title: str, body: str, kind: str = "answer",
           tags: str | list | None = None) -> Answer:
    _check(who)
    answer = Answer(**_clean(title, body, kind, tags), updated_by=who.label)
    session.add(answer)
    session.flush()
    return answer


def update(session: Session, who: Principal, answer_id: int, title: str, body: str, kind: str = "answer",
           tags: str | list | None = None) -> Answer:
    _check(who)
    answer = get(session, answer_id)
    for k, v in _clean(title, body, kind, tags).items():
        setattr(answer, k, v)
    answer.updated_by, answer.updated_at = who.label, utcnow()
    return answer


def archive(session: Session, who: Principal, answer_id: int) -> None:
    _check(who)
    get(session, answer_id).active = False


def variables_for(case: dict, who: Principal) -> dict[str, str]:
    """The values an answer can use, from the case page's data."""
    contact = case.get("contact") or {}
    # Names can be missing, blank or invisible (zero-width, fillers): the greeting falls back to "there".
    name = display_name(contact.get("name"), (contact.get("handle") or "").lstrip("@"), default="there")
    return {"customer_name": name, "first_name": first_word(name, "there"),
            "customer_handle": contact.get("handle") or "", "case_id": str(case.get("id", "")),
            "agent_name": who.name, "agent_first_name": first_word(who.name or "", ""),
            "channel": case.get("channel") or "", "team": case.get("lead_team") or ""}


def render(body: str, values: dict[str, str]) -> str:
    """Fill {{variables}}; unknown ones stay visible so the responder notices before sending."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)

"""The organization's vocabulary: its products, competitors' names and its own terms, which shape triage.

Every entry is matched in messages like the product catalog always was (case-, hashtag- and typo-tolerant).
A product is reported in `products`; a competitor or term in `terms`. An entry may carry an intent (triage
adds to that intent's score when the entry is named, and says so) and a team (routing hands the message to
that team after the playbook, routing/vocabulary.py). Coordinators and admins edit it; every change is
audited, and running workers and web nodes load it within 30 s (triage.factory.ReloadingTriager).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.auth.permissions import POLICY_OWNERS, require
from onevoice.auth.principal import Principal
from onevoice.errors import InvalidInput
from onevoice.teams.service import team_id
from onevoice.triage.models import Product
from onevoice.triage.schemas import VocabularyEntry
from onevoice.triage.types import INTENTS

KINDS = ("product", "competitor", "term")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def entry(p: Product) -> VocabularyEntry:
    """One entry as the API, the CLI and the routing page show it; its `model_dump()` is its audit data."""
    return VocabularyEntry(key=p.key, name=p.name, aliases=list(p.aliases or []), kind=p.kind or "product",
                           intent=p.intent, team=p.team)


def list_entries(session: Session, who: Principal) -> list[VocabularyEntry]:
    require(who, POLICY_OWNERS, "see the vocabulary")
    return [entry(p) for p in session.scalars(select(Product).order_by(Product.kind, Product.key))]


def names_by_key(session: Session, keys: list[str]) -> dict[str, str]:
    """The vocabulary's names of these keys (the reports label their product rows with them)."""
    if not keys:
        return {}
    return dict(session.execute(select(Product.key, Product.name).where(Product.key.in_(keys))).all())


def save_entry(session: Session, who: Principal, key: str, name: str, kind: str = "term",
               aliases: list[str] | None = None, intent: str | None = None, team: str | None = None,
               ip: str | None = None) -> VocabularyEntry:
    """Add an entry, or replace the one with this key (a new row, so the triagers notice and reload)."""
    require(who, POLICY_OWNERS, "change the vocabulary")
    key = (key or "").strip().lower()
    if not _KEY.match(key):
        raise InvalidInput("key: lowercase letters, digits, '-' or '_', up to 100 characters")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name: 1 to 200 characters")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if intent and intent not in INTENTS:
        raise InvalidInput(f"intent must be one of {', '.join(INTENTS)}")
    if team and team_id(session, team) is None:
        raise InvalidInput(f"there is no team {team!r}")
    aliases = [a.strip() for a in aliases or [] if a and a.strip()]
    if any(len(a) > 200 for a in aliases) or len(aliases) > 50:
        raise InvalidInput("aliases: at most 50, each up to 200 characters")
    session.execute(delete(Product).where(Product.key == key))
    row = Product(key=key, name=name, aliases=aliases, kind=kind, intent=intent or None, team=team or None)
    session.add(row)
    session.flush()
    saved = entry(row)
    audit.record(session, who, "vocabulary.save", f"vocabulary:{key}", saved.model_dump(), ip=ip)
    return saved


def remove_entry(session: Session, who: Principal, key: str, ip: str | None = None) -> bool:
    """Remove the entry; False when there was none (removing twice is not an error)."""
    require(who, POLICY_OWNERS, "change the vocabulary")
    row = session.scalar(select(Product).where(Product.key == key))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(session, who, "vocabulary.remove", f"vocabulary:{key}", {}, ip=ip)
    return True

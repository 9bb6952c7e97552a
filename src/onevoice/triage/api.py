"""JSON routes for triage: correct a message's labels (the learning loop), classify a text."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, FastAPI
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken
from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.errors import NotFound
from onevoice.messages.models import Message
from onevoice.runtime import Runtime
from onevoice.triage.service import record_correction
from onevoice.triage.types import TriageInput
from onevoice.web.deps import api_principal, get_runtime, get_session, require_scope
from onevoice.web.params import RowId
from onevoice.web.responses import FastJSON

router = APIRouter(prefix="/api/v1", tags=["triage"])


@router.post("/messages/{message_id}/corrections", response_class=FastJSON, status_code=201)
def correct(message_id: RowId, field: str = Body(..., description="intent, sentiment or team"),
            value: str = Body(..., description="the right label"),
            token: ApiToken = Depends(require_scope("messages:write")), who: Principal = Depends(api_principal),
            session: Session = Depends(get_session)):
    """Correct a message's intent, sentiment or team; kept as a labelled example for `onevoice model train`.
    A person's token may correct the messages of the cases they may act on (as on the case page)."""
    if not who.sees_all:
        message = session.get(Message, message_id)
        if message is None or message.case_id is None:
            raise NotFound(f"no message {message_id}")
        actionable_case(session, who, message.case_id)
    c = record_correction(session, message_id, field, value, actor=f"token:{token.name}")
    return {"id": c.id, "message_id": c.message_id, "field": c.field, "old_value": c.old_value,
            "new_value": c.new_value}


@router.post("/triage/classify", response_class=FastJSON, dependencies=[Depends(require_scope("triage:read"))])
def classify(text: str = Body(..., embed=True, max_length=40_000), followers: int = Body(0, embed=True),
             runtime: Runtime = Depends(get_runtime)):
    """The full triage of one text, with its explanation (nothing is stored). Needs `triage:read`: the model
    answers for every team's words, so a token made for something else does not get it by accident."""
    return runtime.processor.triager.triage_batch([TriageInput(text=text, author_followers=followers)])[0].to_dict()


def register(app: FastAPI) -> None:
    app.include_router(router)

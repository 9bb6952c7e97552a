"""JSON routes for triage: correct a message's labels (the learning loop), classify a text."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken
from onevoice.auth.principal import Principal
from onevoice.process import Runtime
from onevoice.triage import vocabulary
from onevoice.triage.schemas import CorrectionOut, TriageOut, Vocabulary, VocabularyEntry, VocabularyRemoved
from onevoice.triage.service import correct_message
from onevoice.triage.types import TriageInput
from onevoice.web.deps import (
    api_principal,
    get_read_session,
    get_runtime,
    get_session,
    require_scope,
)
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, RECORD_ERRORS

router = APIRouter(prefix="/api/v1", tags=["triage"])


@router.post("/messages/{message_id}/corrections", status_code=201,
             response_model=CorrectionOut, responses=RECORD_ERRORS)
def correct(message_id: RowId, field: str = Body(..., description="intent, sentiment or team"),
            value: str = Body(..., description="the right label"),
            token: ApiToken = Depends(require_scope("messages:write")), who: Principal = Depends(api_principal),
            session: Session = Depends(get_session)):
    """Correct a message's intent, sentiment or team; kept as a labelled example for `onevoice model train`.
    A person's token may correct the messages of the cases they may act on (as on the case page)."""
    return correct_message(session, who, message_id, field, value, actor=f"token:{token.name}")


class VocabularyIn(BaseModel):
    name: str = Field(max_length=200)
    kind: str = Field("term", description="product, competitor or term")
    aliases: list[str] = Field(default_factory=list, max_length=50)
    intent: str | None = Field(None, description="triage leans toward this intent when the entry is named")
    team: str | None = Field(None, description="routing hands messages naming the entry to this team")


@router.get("/vocabulary", response_model=Vocabulary, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("governance:read"))])
def vocabulary_list(who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """The organization's vocabulary (products, competitors, terms) with the intent and team each carries."""
    return {"items": vocabulary.list_entries(session, who)}


@router.put("/vocabulary/{key}", response_model=VocabularyEntry, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("governance:write"))])
def vocabulary_save(key: str, body: VocabularyIn, request: Request, who: Principal = Depends(api_principal),
                    session: Session = Depends(get_session)):
    """Add or replace one entry; the triage of running workers follows within 30 s."""
    return vocabulary.save_entry(session, who, key, body.name, body.kind, body.aliases, body.intent, body.team,
                                 ip=request.client.host if request.client else None)


@router.delete("/vocabulary/{key}", response_model=VocabularyRemoved, responses=AUTH_ERRORS,
               dependencies=[Depends(require_scope("governance:write"))])
def vocabulary_remove(key: str, request: Request, who: Principal = Depends(api_principal),
                      session: Session = Depends(get_session)):
    """Remove one entry (removing one that is not there is not an error: `existed` says which)."""
    existed = vocabulary.remove_entry(session, who, key, ip=request.client.host if request.client else None)
    return VocabularyRemoved(key=key, existed=existed)


@router.post("/triage/classify", response_model=TriageOut, responses=AUTH_ERRORS,
             dependencies=[Depends(require_scope("triage:read"))])
def classify(text: str = Body(..., embed=True, max_length=40_000), followers: int = Body(0, embed=True),
             runtime: Runtime = Depends(get_runtime)):
    """The full triage of one text, with its explanation (nothing is stored). Needs `triage:read`: the model
    answers for every team's words, so a token made for something else does not get it by accident."""
    return runtime.processor.triager.triage_batch([TriageInput(text=text, author_followers=followers)])[0]


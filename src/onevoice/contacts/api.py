"""JSON routes for contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.contacts import service
from onevoice.contacts.schemas import ContactOut
from onevoice.web.deps import get_read_session, get_session, require_scope, require_sees_all, require_token
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, NOT_FOUND

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"],
                   dependencies=[Depends(require_token), Depends(require_sees_all)])


@router.get("/{contact_id}", response_model=ContactOut, responses={**AUTH_ERRORS, **NOT_FOUND},
            dependencies=[Depends(require_scope("contacts:read"))])
def get_contact(contact_id: RowId, session: Session = Depends(get_read_session)):
    return service.describe(session, service.get_contact(session, contact_id))


@router.post("/{contact_id}/link", response_model=ContactOut,
             responses={**AUTH_ERRORS, **NOT_FOUND}, dependencies=[Depends(require_scope("contacts:write"))])
def link(contact_id: RowId,
         other: Annotated[RowId, Body(embed=True, description="the contact to fold into this one")],
         who: Principal = Depends(require_sees_all), session: Session = Depends(get_session)):
    """The same person on another platform: fold `other` (identities, messages, cases) into this contact.
    Recorded with who did it (the `contact.linked` history event and the audit log's `contact.link`)."""
    return service.describe(session, service.link_contacts(session, contact_id, other, actor=who.label))

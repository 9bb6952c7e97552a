"""What the cases API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onevoice.jsontypes import Timestamp
from onevoice.messages.schemas import MessageOut


class ContactBrief(BaseModel):
    id: int
    name: str | None
    handle: str | None
    followers: int | None
    display_name: str = Field(description="name, else handle, else the platform's id")
    marks: list[str] = Field(description="the contact's marks (vip among them)")


class CaseSummary(BaseModel):
    """A case as the lists show it: its own columns (`CASE_FIELDS`) and its teams' and channel's keys."""

    id: int
    status: str
    priority: str
    subject: str | None
    topic: str | None
    intent: str | None
    sentiment: str | None
    tags: list[str]
    lead_team_id: int | None
    contact_id: int | None
    channel_id: int | None
    requires_approval: bool
    message_count: int
    sla_policy: str | None
    sla_due_at: Timestamp | None
    last_message_at: Timestamp
    created_at: Timestamp
    lead_team: str | None = Field(description="the leading team's key")
    collaborators: list[str] = Field(description="the collaborating teams' keys")
    channel: str | None = Field(description="the channel's key")


# The fields of CaseSummary that are the case's own columns, read off the row by name (cases.service).
CASE_FIELDS = tuple(name for name in CaseSummary.model_fields if name not in ("lead_team", "collaborators", "channel"))


class CaseListItem(CaseSummary):
    contact: ContactBrief | None


class CasePage(BaseModel):
    items: list[CaseListItem]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class CaseIdentity(BaseModel):
    channel: str | None
    external_id: str
    handle: str | None
    name: str | None
    followers: int | None


class OtherCase(BaseModel):
    id: int
    status: str
    subject: str | None
    channel: str | None


class CaseContact(BaseModel):
    id: int
    name: str | None
    handle: str | None
    followers: int | None
    display_name: str
    vip: bool
    message_count: int
    identities: list[CaseIdentity] = Field(description="a partner sees only those on their granted channels")
    other_cases: list[OtherCase] = Field(description="the customer's other cases that the reader may see")


class CaseRouting(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read off the routing_decisions row

    message_id: int
    lead_team: str | None
    collaborators: list[str]
    priority: str
    rules: list[Any]
    reason: str | None


class CaseEvent(BaseModel):
    kind: str
    actor: str | None = Field(description="a partner reads people's names instead of their addresses")
    message_id: int | None
    data: dict[str, Any] | None
    at: Timestamp


class CaseDetail(CaseSummary):
    contact: CaseContact | None
    messages: list[MessageOut]
    routing: list[CaseRouting]
    routing_reason: str | None
    events: list[CaseEvent]

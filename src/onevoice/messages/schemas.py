"""What the messages API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onevoice.contacts.names import author_view
from onevoice.jsontypes import Timestamp


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str | None = Field(None, description="the channel's key")
    external_id: str
    direction: str = Field(description="inbound or outbound")
    kind: str
    text: str
    author: dict[str, Any] = Field(description="external_id, handle, name, followers (0 when the platform sent "
                                                "none), display_name, and any other field the platform sent")
    in_reply_to: str | None
    url: str | None
    created_at: Timestamp
    received_at: Timestamp
    status: str
    attempts: int
    error: str | None
    processed_at: Timestamp | None
    language: str | None
    triage: dict[str, Any] | None = Field(description="the classifier's labels, scores and explanation")
    contact_id: int | None
    conversation_id: int | None
    case_id: int | None
    attachments: list[dict[str, Any]]
    edited_at: Timestamp | None
    deleted_at: Timestamp | None

    @field_validator("author", mode="before")
    @classmethod
    def _author(cls, value: object) -> dict:
        return author_view(value)

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachments(cls, value: object) -> object:
        return value or []

    @classmethod
    def of(cls, message: object, channel_key: str | None) -> MessageOut:
        """The message read from its row, with its channel's key (the row has only the channel's id)."""
        out = cls.model_validate(message, from_attributes=True)
        out.channel = channel_key
        return out


class RoutingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lead_team: str | None
    collaborators: list[str]
    priority: str
    sla_policy: str | None
    tags: list[str]
    requires_approval: bool
    close_as_spam: bool
    rules: list[Any] = Field(description="the playbook rules that matched")
    reason: str | None


class MessageEvent(BaseModel):
    kind: str
    actor: str | None
    data: dict[str, Any] | None
    at: Timestamp


class MessageDetail(MessageOut):
    raw: Any = Field(description="the payload as the platform sent it")
    routing: RoutingOut | None = None
    events: list[MessageEvent] = []


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")


class Retried(BaseModel):
    retried: list[int] = Field(description="the ids put back in the queue")

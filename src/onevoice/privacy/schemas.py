"""What the privacy API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onevoice.jsontypes import IsoTime, Timestamp

Row = dict[str, Any]


class ContactExport(BaseModel):
    """Everything held about one contact: each record with all its columns (times as ISO 8601 text)."""

    format: str = Field(description="onevoice-contact-export-v1")
    generated_at: IsoTime
    onevoice: str = Field(description="the version that wrote the document")
    contact: Row
    identities: list[Row] = Field(description="each with its channel's key")
    messages: list[Row] = Field(description="each with its channel's key and whether the contact wrote it")
    cases: list[Row]
    history: list[Row]
    routing_decisions: list[Row]
    triage_corrections: list[Row]
    mentioned_elsewhere: dict[str, int] = Field(description="'table.column' -> rows that name the person "
                                                            "elsewhere, for the officer to review")
    privacy_requests: list[Row]


class Erased(BaseModel):
    """The erasure request's counts: messages, cases... by kind, then what was swept elsewhere."""

    model_config = ConfigDict(extra="allow")

    request_id: int
    reference: str


class RetentionRuleOut(BaseModel):
    id: int
    channel: str | None = Field(description="the channel's key; null: every channel")
    kind: str | None = Field(description="null: every kind")
    days: int
    action: str = Field(description="anonymize or delete")
    enabled: bool
    updated_by: str | None
    updated_at: IsoTime


class RetentionRules(BaseModel):
    items: list[RetentionRuleOut]


class RetentionRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    started_at: Timestamp
    finished_at: Timestamp | None
    actor: str | None
    anonymized: int
    deleted: int
    attachments: int
    raw_payloads: int


class RetentionRuns(BaseModel):
    items: list[RetentionRunOut]

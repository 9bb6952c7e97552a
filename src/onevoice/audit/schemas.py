"""What the audit log's readers get: one record (`log.record_out`), a page of them (`log.search`); a record's
`model_dump()` is also the row the export writes (JSON lines, CSV), byte for byte as before the model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from onevoice.jsontypes import IsoTime


class AuditRecordOut(BaseModel):
    id: int
    seq: int
    at: IsoTime
    actor: str
    action: str
    target: str | None
    data: Any
    ip: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditRecordOut]
    next: int | None = Field(description="pass as ?before= for the next (older) page")

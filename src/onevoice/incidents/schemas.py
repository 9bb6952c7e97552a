"""What the incidents API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from onevoice.jsontypes import IsoTime


class IncidentOut(BaseModel):
    id: int
    topic: str
    status: str = Field(description="open or closed")
    summary: str | None
    opened_at: IsoTime
    closed_at: IsoTime | None
    closed_by: str | None
    close_reason: str | None
    reopen_count: int
    baseline_rate: float | int | None = Field(description="the topic's usual cases an hour before the surge")
    last_activity_at: IsoTime | None
    duration_seconds: int = Field(description="open until now, or until it was closed")
    duration: str = Field(description="the same, for people (\"2 h 05 min\")")
    cases: int = Field(description="how many cases it links")


class Incidents(BaseModel):
    items: list[IncidentOut]


class IncidentChange(BaseModel):
    """The live update published for the change (the same object the live stream carries)."""

    type: str = Field(description="incident")
    incident_id: int
    topic: str
    status: str
    change: str = Field(description="incident.closed or incident.reopened")
    actor: str

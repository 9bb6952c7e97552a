"""The JSON shapes of /api/v1/reports (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from onevoice.jsontypes import JsonTimestamp, Timestamp


class Period(BaseModel):
    start: date
    end: date
    days: int
    previous_start: date = Field(description="the comparison period: as long, just before")
    previous_end: date


class Figure(BaseModel):
    now: float | int | None = Field(description="the figure for the period (docs/metrics.md defines each)")
    before: float | int | None = Field(description="the same figure for the previous period")
    change: float | None = Field(description="now - before, when both are numbers")


class Row(BaseModel):
    """A table row: its columns are listed in docs/metrics.md for each table."""

    model_config = {"extra": "allow"}


class Ranking(BaseModel):
    advocates: list[Row]
    detractors: list[Row]
    moved: list[Row] = Field(description="customers who changed side since the previous period")
    advocate_count: int
    detractor_count: int
    turned_advocate: int
    turned_detractor: int


class ReportOut(BaseModel):
    period: Period
    figures: dict[str, Figure] = Field(description="service.*, reputation.*, leads.*, advocacy.* figures")
    backlog: Row
    daily: list[Row]
    volume: dict[str, list[Row]] = Field(description="cases and messages by channel, kind, intent, language, "
                                                     "product, team")
    collaboration: list[Row]
    return_: list[Row] = Field(alias="return", description="effort, cost per resolved case, public or private "
                                                            "resolutions, lead value per team")
    incidents: list[Row]
    advocacy: Ranking
    load: list[Row]
    objectives: list[Row]
    hourly_rate: float
    as_of: Timestamp | None = Field(description="the figures include what happened up to this moment (the last "
                                               "upkeep pass; during a surge they wait while messages are processed)")


class CaseBehind(BaseModel):
    case_id: int
    opened_at: JsonTimestamp
    status: str
    priority: str
    team: str | None
    intent: str | None
    kind: str | None
    first_response_s: int | None
    first_response_bh_s: int | None
    resolution_s: int | None
    reopens: int
    messages_in: int
    visible: bool = Field(description="whether you may open the case; its subject is given only then")
    subject: str | None


class UpkeepOut(BaseModel):
    cases: int
    watermark: int


class ObjectiveIn(BaseModel):
    """A target on one figure, in the figure's own unit as the report JSON gives it: seconds for durations, a
    share between 0 and 1 for rates (net sentiment from -1), a count otherwise."""
    team: str | None = Field(None, max_length=64, description="the team's key; left out: the organization's")
    metric: str = Field(max_length=60, description="a figure of the report, e.g. service.first_response_bh_median_s")
    comparator: Literal["<=", ">="]
    target: float


class ObjectiveOut(BaseModel):
    id: int
    team: str | None = Field(description="the team's key; null: the organization's")
    metric: str
    label: str
    comparator: str
    target: float
    target_text: str = Field(description="the target as the pages read it, e.g. at most 1.0 h")
    created_by: str

"""What the advocacy API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from onevoice.jsontypes import Timestamp


class Standing(BaseModel):
    contact_id: int
    name: str
    handle: str | None
    followers: int | None
    advocacy: float | int = Field(description="positive messages, recommendations, reach and recency, weighed")
    detraction: float | int
    net: float | int = Field(description="advocacy - detraction")
    status: str = Field(description="advocate, detractor or neutral")
    positive: int
    negative: int
    recommendations: int
    last_at: Timestamp | None
    marks: list[str]


class Move(Standing):
    before: str = Field(description="the status at the start of the window")
    after: str


class Counts(BaseModel):
    advocates: int
    detractors: int
    advocates_before: int = Field(description="at the start of the window")
    detractors_before: int


class TrendPoint(BaseModel):
    at: Timestamp
    advocates: int
    detractors: int


class AdvocacyOverview(BaseModel):
    advocates: list[Standing]
    detractors: list[Standing]
    moves: list[Move] = Field(description="who changed side in the window")
    marked: list[Standing] = Field(description="the customers with a mark (vip...)")
    counts: Counts
    trend: list[TrendPoint] = Field(description="weekly counts")
    window_days: int
    now: Timestamp

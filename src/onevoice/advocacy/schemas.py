"""What the advocacy API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from onevoice.jsontypes import JsonTimestamp, Timestamp


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


class FeedItem(BaseModel):
    """An item of the employee advocacy feed as the page shows it (`participation.feed`; no API answers it):
    its times stay datetimes for the page to format; `status` reads "expired" once an approved item is past
    its date."""

    id: int
    title: str
    text: str
    link_url: str
    media_url: str | None
    media_alt: str
    variants: dict[str, str]
    campaign: str
    expires_at: JsonTimestamp | None
    created_by: str
    author_name: str
    created_at: JsonTimestamp
    status: str
    approval_reason: str
    due_at: JsonTimestamp | None
    decided_by: str | None
    decision_note: str | None
    warnings: list[dict[str, Any]]


class MyShare(BaseModel):
    code: str
    clicks: int


class LiveItem(FeedItem):
    """A shareable item with the reader's own share links (network -> link) and their clicks."""

    my_shares: dict[str, MyShare]


class WaitingItem(FeedItem):
    """An item waiting for approval, and whether the reader may decide it."""

    can_decide: bool

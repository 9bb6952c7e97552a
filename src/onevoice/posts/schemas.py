"""What the posts API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onevoice.governance.schemas import FindingOut
from onevoice.jsontypes import Timestamp


class ChannelChoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    kind: str
    limit: int | None = Field(description="the platform's length limit, in characters")
    media: bool = Field(description="the channel publishes images and videos")
    delete: bool = Field(description="a published post can be deleted from the platform")


class PublishableChannels(BaseModel):
    items: list[ChannelChoiceOut]


class TargetApproval(BaseModel):
    id: int
    status: str
    reason: str | None
    due_at: Timestamp | None
    decided_by: str | None
    note: str | None


class PostTargetOut(BaseModel):
    channel: str
    channel_name: str
    kind: str
    state: str = Field(description="draft, awaiting_approval, scheduled, queued, sent, failed, rejected, cancelled, "
                                   "deleting or deleted")
    status: str = Field(description="the outgoing message's status")
    text: str
    platform_id: str | None = Field(description="the post's id on the platform, once sent")
    url: str | None
    error: str | None
    attempts: int
    next_attempt_at: Timestamp | None
    approval: TargetApproval | None
    can_delete: bool


class PostOut(BaseModel):
    id: int
    text: str
    media: list[Any] = Field(description="the media URLs (or {url, mime, alt} objects) as given")
    sponsored: bool
    scheduled_at: Timestamp | None
    created_by: str
    author_name: str
    created_at: Timestamp
    updated_at: Timestamp
    state: str = Field(description="the state that most needs attention among the channels'")
    targets: list[PostTargetOut] = Field(description="one per channel")


class Posts(BaseModel):
    items: list[PostOut]


class PostSent(PostOut):
    warnings: list[FindingOut] = Field(description="the guard's warnings (nothing blocked)")
    held: list[str] = Field(description="the channels waiting for approval")
    scheduled: list[str] = Field(description="the channels kept for the schedule time")


class PostCancelled(PostOut):
    cancelled: list[str] = Field(description="the channels stopped")


class PostRetried(PostOut):
    retried: int = Field(description="how many channels' copies go out again")


class PostDeleting(PostOut):
    deleting: int = Field(description="how many channels' copies are being deleted")


class Blocked(BaseModel):
    detail: str
    blocked: dict[str, list[FindingOut]] = Field(description="the guard's findings, by channel key")

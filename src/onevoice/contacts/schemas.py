"""What the contacts API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IdentityOut(BaseModel):
    channel: str | None = Field(description="the channel's key this identity was seen on")
    external_id: str = Field(description="the author's id on that platform")
    handle: str | None


class ContactOut(BaseModel):
    id: int
    name: str | None
    handle: str | None
    followers: int | None
    display_name: str = Field(description="name, else handle, else the platform's id")
    vip: bool
    message_count: int
    identities: list[IdentityOut]

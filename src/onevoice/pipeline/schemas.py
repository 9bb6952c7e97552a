"""What the intake API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Accepted(BaseModel):
    index: int = Field(description="the message's position in the batch")
    id: int
    external_id: str
    duplicate: bool = Field(description="already stored (by channel and external_id): nothing was added")


class Rejected(BaseModel):
    index: int
    error: str = Field(description="why the message was refused")


class IntakeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    accepted: list[Accepted]
    rejected: list[Rejected]

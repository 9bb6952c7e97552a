"""What the operations endpoints answer (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = Field(description="ok")


class Readiness(BaseModel):
    status: str = Field(description="ready, or not ready (then the answer is a 503)")
    checks: dict[str, str] = Field(description="database (and redis when configured): ok, or the error's type")

"""What the triage API answers (response models: the OpenAPI document describes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TriageOut(BaseModel):
    """One text's triage, with its explanation (the fields of `triage.types.TriageResult`)."""

    model_config = ConfigDict(from_attributes=True)

    sentiment: str = Field(description="negative, neutral or positive")
    sentiment_score: float | int
    intent: str
    intent_confidence: float | int
    intent_runner_up: str | None
    urgency: str = Field(description="low, normal, high or critical")
    language: str
    flags: dict[str, Any]
    products: list[Any]
    topics: list[Any]
    explanation: list[Any] = Field(description="why: the words and scores that decided")
    model_version: str
    scores: dict[str, Any] = Field(description="the raw head scores behind the flags")
    complaint: bool
    complaint_probability: float | int
    complaint_reasons: list[Any]
    terms: list[dict[str, Any]] = Field(description="the organization's vocabulary named in the text")


class CorrectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: int
    field: str = Field(description="intent, sentiment or team")
    old_value: str | None
    new_value: str


class VocabularyEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    aliases: list[str]
    kind: str = Field(description="product, competitor or term")
    intent: str | None
    team: str | None


class Vocabulary(BaseModel):
    items: list[VocabularyEntry]


class VocabularyRemoved(BaseModel):
    key: str
    existed: bool = Field(description="false when there was no such entry (not an error)")

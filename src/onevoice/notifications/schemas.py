"""What /api/v1/notifications answers and takes (the OpenAPI document describes them); the settings page reads
the same models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onevoice.jsontypes import Timestamp


class Offers(BaseModel):
    """What this person's role may subscribe to (docs/notifications.md)."""

    weekly_digest: bool
    incident_alerts: bool
    sla_alerts: bool
    rules: bool = Field(description="may set the SLA alert thresholds (coordinators and admins)")


class SubscriptionsOut(BaseModel):
    weekly_digest: bool = Field(description="last week's report figures by email, every Monday")
    incident_alerts: bool = Field(description="an incident opened or came back")
    sla_alerts: bool = Field(description="SLA attainment fell below a coordinator's threshold")
    alert_email: bool = Field(description="alerts by email too (they always show on the notifications page)")
    offers: Offers


class SubscriptionsIn(BaseModel):
    """The subscriptions to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    weekly_digest: bool | None = None
    incident_alerts: bool | None = None
    sla_alerts: bool | None = None
    alert_email: bool | None = None


Metric = Literal["first_response_sla", "resolution_sla"]


class ThresholdOut(BaseModel):
    id: int
    metric: str = Field(description="first_response_sla or resolution_sla (docs/metrics.md, SLA attainment)")
    figure: str = Field(description="the figure in words")
    team: str | None = Field(description="the team's key; null: the whole organization")
    team_name: str | None
    threshold_percent: float = Field(description="an alert when the figure falls below this")
    days: int = Field(description="the figure is measured over the last `days` days, today included")
    enabled: bool
    firing: bool = Field(description="below the threshold now: alerted once, again only after it recovered")
    last_value_percent: float | None = Field(description="the figure at the last check (null: no case due yet)")
    checked_at: Timestamp | None
    set_by: str


class Thresholds(BaseModel):
    items: list[ThresholdOut]


class ThresholdIn(BaseModel):
    """One threshold per figure and scope: setting it again for the same figure and team replaces it."""

    model_config = ConfigDict(extra="forbid")

    metric: Metric = "first_response_sla"
    team: str | None = Field(None, max_length=64, description="a team's key; null or left out: the organization")
    threshold_percent: float = Field(gt=0, le=100, allow_inf_nan=False)
    days: int = Field(7, ge=1, le=90)
    enabled: bool = True

"""What a queue row shows (the inbox's pages; no API answers it): a case as the lists show it, and beside it
its latest message, assignee, incident, approval and SLA, read for the whole page at once (`inbox.rows`)."""

from __future__ import annotations

from pydantic import BaseModel

from onevoice.cases.schemas import CaseListItem
from onevoice.jsontypes import JsonTimestamp


class LatestMessage(BaseModel):
    id: int
    text: str
    direction: str
    status: str
    author: str
    at: JsonTimestamp
    language: str | None
    urgency: str | None


class QueueRow(CaseListItem):
    latest: LatestMessage | None
    assignee_id: int | None
    assignee: str | None
    incident_id: int | None
    waiting_approval: bool
    # The rows' times as datetimes, for the page's filters (`sla`, `ago`), beside the columns' ISO text.
    sla_due: JsonTimestamp | None
    last_at: JsonTimestamp

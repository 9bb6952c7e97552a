"""What a queue view asks for: which queue, which filters, which order. Parsed once at the edge."""

from __future__ import annotations

from dataclasses import dataclass, fields

from onevoice.cases.models import CASE_STATUSES, OPEN_STATUSES, PRIORITIES
from onevoice.errors import InvalidInput

FIXED_QUEUES = ("mine", "open", "unassigned", "breaching", "approval", "incidents")
SORTS = ("recent", "sla", "priority")
STATUS_CHOICES = ("open", *CASE_STATUSES, "all")


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    intent: str | None = None
    sentiment: str | None = None
    priority: str | None = None
    language: str | None = None
    product: str | None = None
    tag: str | None = None
    q: str | None = None
    incident: str | None = None  # one incident's cases (an incident alert links here), by its id
    status: str = "open"
    sort: str = "recent"

    @classmethod
    def parse(cls, params) -> Filters:
        values = {f.name: (params.get(f.name) or "").strip() or None for f in fields(cls)}
        values["status"] = values["status"] or "open"
        values["sort"] = values["sort"] or "recent"
        out = cls(**values)
        if out.status not in STATUS_CHOICES:
            raise InvalidInput(f"unknown status {out.status!r}")
        if out.sort not in SORTS:
            raise InvalidInput(f"unknown sort {out.sort!r}: use one of {', '.join(SORTS)}")
        if out.priority and out.priority not in PRIORITIES:
            raise InvalidInput(f"unknown priority {out.priority!r}")
        if out.incident and not (out.incident.isascii() and out.incident.isdigit() and 0 < int(out.incident) < 2**63):
            raise InvalidInput(f"an incident is given by its number, not {out.incident[:40]!r}")
        return out

    @property
    def statuses(self) -> tuple[str, ...]:
        if self.status == "open":
            return OPEN_STATUSES
        return CASE_STATUSES if self.status == "all" else (self.status,)

    def as_params(self, **override) -> dict[str, str]:
        """Non-default values, for links that keep the current filters."""
        data = {f.name: getattr(self, f.name) for f in fields(self)} | override
        defaults = {"status": "open", "sort": "recent"}
        return {k: str(v) for k, v in data.items() if v and defaults.get(k) != v}

    @property
    def active(self) -> bool:
        return any(getattr(self, f) for f in ("channel", "intent", "sentiment", "priority", "language",
                                              "product", "tag", "q", "incident")) or self.status != "open"


def check_queue(queue: str) -> str:
    if queue in FIXED_QUEUES or (queue.startswith("team:") and len(queue) > 5):
        return queue
    raise InvalidInput(f"unknown queue {queue!r}")

"""The addresses of the report views and of the cases behind a figure, built one way for the pages and for what
links to them from elsewhere (an alert, a digest). Paths only: the caller adds the public address when it
leaves the app (an email)."""

from __future__ import annotations

from urllib.parse import urlencode


def query(filters: dict, **extra) -> str:
    """The query string of a report address: dates as ISO days, empty filters left out."""
    values = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in {**filters, **extra}.items()}
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def report_path(filters: dict, **extra) -> str:
    """/reports for these filters (start, end, team, channel, product, tag, hourly_rate; view)."""
    return f"/reports?{query(filters, **extra)}"


def cases_path(filters: dict, figure: str) -> str:
    """/reports/cases: the cases behind `figure` (a key of reports.service.drill_conditions) for these filters."""
    return f"/reports/cases?{query(filters, figure=figure)}"

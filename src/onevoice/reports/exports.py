"""CSV for every table of the reports (reports.service.table) and for the cases behind any figure.

Cells that a spreadsheet would run as a formula are written as text (governance.audit.spreadsheet_safe,
the same rule as the audit export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from onevoice.audit.log import spreadsheet_safe


def to_csv(rows: Iterable[dict]) -> str:
    rows = list(rows)
    buf = io.StringIO()
    if not rows:
        return ""
    columns = list(rows[0])
    writer = csv.writer(buf)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([spreadsheet_safe(_cell(r.get(c))) for c in columns])
    return buf.getvalue()


def _cell(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value

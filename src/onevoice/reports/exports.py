"""CSV for every table of the reports and for the cases behind any figure.

Cells that a spreadsheet would run as a formula are written as text (governance.audit.spreadsheet_safe,
the same rule as the audit export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from onevoice.audit.log import spreadsheet_safe
from onevoice.errors import InvalidInput

TABLES = ("daily", "collaboration", "return", "advocates", "detractors", "moved", "incidents", "objectives",
          "volume_channel", "volume_kind", "volume_intent", "volume_language", "volume_product", "volume_team",
          "figures", "load")


def rows_of(report: dict, table: str) -> list[dict]:
    if table not in TABLES:
        raise InvalidInput(f"unknown table {table!r}: use one of {', '.join(TABLES)}")
    if table.startswith("volume_"):
        return report["volume"][table[7:]]
    if table in ("advocates", "detractors", "moved"):
        return report["advocacy"][table]
    if table == "figures":
        return [{"figure": k, **v} for k, v in report["figures"].items()]
    return report[table]


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

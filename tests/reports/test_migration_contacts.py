"""Migration 0028 drops report_contacts (no report reads it); a downgrade fills it again from the case facts."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, inspect, text

from onevoice.migrate import alembic_config, upgrade
from onevoice.reports.models import CaseFacts


def test_report_contacts_is_dropped_and_a_downgrade_fills_it_from_the_facts(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(url)
    assert "report_contacts" not in inspect(engine).get_table_names()
    with engine.begin() as c:
        for case_id, contact, adv, det, pos, neg, rec in ((1, 7, 1.5, 0.0, 1, 0, 1), (2, 7, 0.25, 2.0, 1, 2, 0),
                                                          (3, 8, 0.0, 1.0, 0, 1, 0), (4, None, 9.0, 9.0, 9, 9, 9)):
            row = {"case_id": case_id, "contact_id": contact, "adv_w": adv, "det_w": det, "adv_n": pos, "det_n": neg,
                   "recommendations": rec, "opened_at": datetime(2026, 12, 7, 9, tzinfo=UTC),
                   "opened_day": "2026-12-07",
                   "status": "open", "priority": "normal", "tags": ",,"}
            c.execute(CaseFacts.__table__.insert(), row)  # the other columns: their defaults
    command.downgrade(alembic_config(url), "0027_report_day_hist")
    with engine.connect() as c:
        rows = c.execute(text("SELECT contact_id, cases, adv_w, det_w, adv_n, det_n, recommendations "
                              "FROM report_contacts ORDER BY contact_id")).all()
    assert [tuple(r) for r in rows] == [(7, 2, 1.75, 2.0, 2, 2, 1), (8, 1, 0.0, 1.0, 0, 1, 0)]
    upgrade(url)
    assert "report_contacts" not in inspect(create_engine(url)).get_table_names()

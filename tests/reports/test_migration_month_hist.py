"""Migration 0034 fills report_month_hist from report_daily_hist (each month's rows summed over its days) and
report_team_contact_days from the case facts (the rule of team_customers.team_days)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby

from alembic import command
from sqlalchemy import create_engine, text

from onevoice.migrate import alembic_config, upgrade
from onevoice.reports.models import CaseFacts
from onevoice.reports.team_customers import team_days


def test_the_histogram_by_month_is_filled_from_the_days(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0032_report_contact_day_keys")
    engine = create_engine(url)
    with engine.begin() as c:
        for day, team, channel, metric, b, n in (
                ("2026-11-30", 1, 2, "first_response", 5, 3), ("2026-11-01", 1, 2, "first_response", 5, 4),
                ("2026-11-15", 1, 3, "first_response", 5, 1), ("2026-12-01", 1, 2, "first_response", 5, 2),
                ("2026-12-07", 2, 0, "first_action", 9, 6)):
            c.execute(text("INSERT INTO report_daily_hist (day, team_id, channel_id, metric, bucket, n) "
                           "VALUES (:d, :t, :c, :m, :b, :n)"), {"d": day, "t": team, "c": channel, "m": metric,
                                                                "b": b, "n": n})
    upgrade(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT month, team_id, channel_id, metric, bucket, n FROM report_month_hist "
                              "ORDER BY month, team_id, channel_id")).all()
    assert [tuple(r) for r in rows] == [("2026-11", 1, 2, "first_response", 5, 7),
                                        ("2026-11", 1, 3, "first_response", 5, 1),
                                        ("2026-12", 1, 2, "first_response", 5, 2),
                                        ("2026-12", 2, 0, "first_action", 9, 6)]
    engine.dispose()


def test_the_teams_customer_rows_are_filled_from_the_facts(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0032_report_contact_day_keys")
    engine = create_engine(url)
    # Customer 7: a case with no lead team first, two of team 1 on one day, team 2 between; 8: team 1 only;
    # a case with no customer.
    facts = [(1, 7, None, "2026-10-03"), (2, 7, 1, "2026-10-05"), (3, 7, 1, "2026-10-05"), (4, 7, 2, "2026-11-01"),
             (5, 7, 1, "2026-12-01"), (6, 8, 1, "2026-12-02"), (7, None, 1, "2026-12-03")]
    with engine.begin() as c:
        for case_id, contact, team, day in facts:
            c.execute(CaseFacts.__table__.insert(), {
                "case_id": case_id, "contact_id": contact, "lead_team_id": team, "opened_day": day,
                "opened_at": datetime(2026, 12, 7, 9, tzinfo=UTC), "status": "open", "priority": "normal",
                "tags": ",,"})
    upgrade(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT contact_id, team_id, from_day, to_day, first_day FROM report_team_contact_days "
                              "ORDER BY contact_id, team_id, from_day")).all()
    expected = sorted((contact, r["team_id"], r["from_day"], r["to_day"], r["first_day"])
                      for contact, cases in groupby(sorted(f for f in facts if f[1]), key=lambda f: f[1])
                      for r in team_days([(f[3], f[2]) for f in sorted(cases, key=lambda f: (f[3], f[0]))]))
    assert [tuple(r) for r in rows] == expected
    assert expected[:3] == [(7, 1, "2026-10-05", "2026-12-01", "2026-10-03"),
                            (7, 1, "2026-12-01", "9999-12-31", "2026-10-03"),
                            (7, 2, "2026-11-01", "9999-12-31", "2026-10-03")]
    engine.dispose()

"""Migration 0034 fills report_month_hist from report_daily_hist: each month's rows summed over its days."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from onevoice.migrate import alembic_config, upgrade


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

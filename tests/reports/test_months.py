"""A period split into the days before its first whole month, its whole months and the days after its last."""

from __future__ import annotations

from datetime import date

from onevoice.reports.months import bounds


def test_a_long_period_is_its_whole_months_and_the_days_at_either_end():
    assert bounds(date(2026, 1, 17), date(2026, 11, 16)) == {
        "head_lo": "2026-01-17", "head_hi": "2026-01-31", "m_lo": "2026-02", "m_hi": "2026-10",
        "tail_lo": "2026-11-01", "tail_hi": "2026-11-16"}


def test_a_period_of_whole_months_has_empty_ends():
    b = bounds(date(2026, 11, 1), date(2026, 12, 31))
    assert (b["m_lo"], b["m_hi"]) == ("2026-11", "2026-12")
    assert b["head_lo"] > b["head_hi"] and b["tail_lo"] > b["tail_hi"]


def test_a_period_within_a_month_or_across_one_end_reads_days_only():
    for lo, hi in ((date(2026, 11, 3), date(2026, 11, 20)), (date(2026, 10, 20), date(2026, 11, 16)),
                   (date(2026, 11, 1), date(2026, 11, 29)), (date(2026, 12, 31), date(2026, 12, 31))):
        b = bounds(lo, hi)
        assert (b["head_lo"], b["head_hi"]) == (lo.isoformat(), hi.isoformat())
        assert b["m_lo"] > b["m_hi"] and b["tail_lo"] > b["tail_hi"]


def test_a_month_ending_the_period_and_one_starting_it():
    b = bounds(date(2026, 2, 14), date(2026, 3, 31))
    assert (b["head_lo"], b["head_hi"], b["m_lo"], b["m_hi"]) == ("2026-02-14", "2026-02-28", "2026-03", "2026-03")
    assert b["tail_lo"] > b["tail_hi"]
    b = bounds(date(2026, 2, 1), date(2026, 3, 5))
    assert (b["m_lo"], b["m_hi"], b["tail_lo"], b["tail_hi"]) == ("2026-02", "2026-02", "2026-03-01", "2026-03-05")
    assert b["head_lo"] > b["head_hi"]

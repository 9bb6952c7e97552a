"""`DueCalendar` gives the due time `SlaPolicy.add_business_time` gives, to the microsecond, for any start
and amount: across weekends, holidays, daylight-saving changes, spans that close at midnight, and a calendar
with no open day at all (both refuse)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onevoice.routing.sla import DueCalendar, SlaPolicy

POLICIES = [
    SlaPolicy.from_dict("office", {"business_hours": {"mon": "09:00-17:00", "tue": "09:00-17:00",
                                                      "wed": "09:00-17:00", "thu": "09:00-17:00",
                                                      "fri": "09:00-13:30"},
                                   "timezone": "Europe/Berlin", "holidays": ["2025-12-25", "2025-12-26",
                                                                            "2026-03-30", "2026-04-06"]}),
    SlaPolicy.from_dict("late", {"business_hours": {"sat": "18:00-00:00", "sun": "00:00-02:30", "wed": "02:00-03:00"},
                                 "timezone": "America/New_York"}),
    SlaPolicy.from_dict("utc", {"business_hours": {"mon": "00:00-23:59"}, "timezone": "UTC",
                                "holidays": ["2026-01-05"]}),
]
CALENDARS = {p.name: DueCalendar(p) for p in POLICIES}  # shared by every example: its kept days are reused

# Starts and amounts on whole hours too: a due time that falls exactly on a closing time is where an off-by-one
# in the bisection would show.
_any = st.datetimes(min_value=datetime(2025, 10, 20), max_value=datetime(2026, 4, 10), timezones=st.just(UTC))
starts = st.one_of(_any, _any.map(lambda d: d.replace(minute=0, second=0, microsecond=0)))
amounts = st.one_of(st.integers(0, 600).map(lambda m: timedelta(minutes=m)),
                    st.integers(0, 80).map(lambda h: timedelta(hours=h, minutes=30 * (h % 2))),
                    st.integers(0, 20 * 86400 * 10**6).map(lambda us: timedelta(microseconds=us)))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(POLICIES), starts, amounts)
def test_the_calendar_equals_the_walk(policy, start, amount):
    assert CALENDARS[policy.name].add_business_time(start, amount) == policy.add_business_time(start, amount)


def test_a_calendar_extends_its_days_for_a_longer_target_and_agrees_through_due():
    policy = SlaPolicy.from_dict("office", {"first_response": {"normal": "30h"},
                                            "business_hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu")},
                                            "timezone": "Europe/Berlin", "holidays": ["2025-12-25"]})
    calendar = DueCalendar(policy)
    start = datetime(2025, 12, 23, 15, 0, tzinfo=UTC)  # Tuesday 16:00 in Berlin
    for hours in (1, 8, 40, 400):  # the same start day, each asking further than the days kept so far
        amount = timedelta(hours=hours)
        assert calendar.add_business_time(start, amount) == policy.add_business_time(start, amount)
    # 1 h on Tuesday, 8 on Wednesday, Thursday a holiday, Friday closed, 8 + 8 on Monday and Tuesday, 5 on
    # Wednesday the 31st: 14:00 in Berlin.
    assert policy.due(start, "normal", calendar=calendar) == policy.due(start, "normal") == \
        datetime(2025, 12, 31, 13, 0, tzinfo=UTC)


def test_no_open_day_is_refused_like_the_walk():
    mondays = [str(date(2026, 1, 5) + timedelta(weeks=w)) for w in range(200)]  # every Monday a holiday
    closed = SlaPolicy.from_dict("closed", {"business_hours": {"mon": "09:00-17:00"}, "timezone": "UTC",
                                            "holidays": mondays})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="no business hours"):
        closed.add_business_time(start, timedelta(hours=1))
    with pytest.raises(ValueError, match="no business hours"):
        DueCalendar(closed).add_business_time(start, timedelta(hours=1))


# Starts at and around the kept calendars' edges (an opening, a closing, midnight), the same day asked again
# at other times, in the policies' own zone and in UTC: the answers a day keeps for a start before its opening
# or after its closing must be the walk's for every start in that stretch, whichever asked first.
_day = st.dates(min_value=date(2025, 10, 20), max_value=date(2026, 4, 10))
_edges = st.sampled_from([(0, 0, 0), (2, 0, 0), (2, 30, 0), (3, 0, 0), (8, 59, 59), (9, 0, 0), (9, 0, 1),
                          (13, 30, 0), (16, 59, 59), (17, 0, 0), (17, 0, 1), (18, 0, 0), (23, 59, 59)])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(POLICIES), _day, st.lists(st.tuples(_edges, st.integers(-2, 2)), min_size=1, max_size=6),
       amounts, st.booleans())
def test_a_days_kept_answers_equal_the_walk_for_every_start_of_that_day(policy, day, times, amount, local):
    calendar = DueCalendar(policy)  # new: the first start of each stretch is the one its answer is kept from
    zone, other = (calendar.tz, UTC) if local else (UTC, calendar.tz)
    for (hour, minute, second), shift in times:
        start = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone) + timedelta(seconds=shift)
        for asked in (start, start.astimezone(other)):  # the same moment in either zone: answered in its own
            due, walked = calendar.add_business_time(asked, amount), policy.add_business_time(asked, amount)
            assert due == walked and due.utcoffset() == walked.utcoffset()


def test_starts_before_an_opening_share_one_answer_and_starts_after_a_closing_another():
    policy = POLICIES[0]  # Berlin, Monday to Thursday 09:00-17:00
    calendar = DueCalendar(policy)
    berlin = calendar.tz
    early = [datetime(2026, 1, 13, h, m, tzinfo=berlin) for h, m in ((0, 0), (6, 30), (9, 0))]  # a Tuesday
    late = [datetime(2026, 1, 13, h, m, tzinfo=berlin) for h, m in ((17, 0), (20, 15), (23, 59))]
    amount = timedelta(hours=10)
    assert {calendar.add_business_time(s, amount) for s in early} == {datetime(2026, 1, 14, 11, 0, tzinfo=berlin)}
    assert {calendar.add_business_time(s, amount) for s in late} == {datetime(2026, 1, 15, 11, 0, tzinfo=berlin)}
    for s in early + late:
        assert calendar.add_business_time(s, amount) == policy.add_business_time(s, amount)

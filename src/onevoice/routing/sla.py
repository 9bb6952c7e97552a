"""SLA policies: response and resolution targets per priority, counted in business hours.

A target of "8h" under a Monday-to-Friday 09:00-17:00 calendar, for a message that arrives on Friday at
16:00, is due on Monday at 15:00, and a holiday on that Monday pushes it to Tuesday. Priorities listed in
`around_the_clock` (urgent by default) ignore the calendar: a safety problem does not wait for Monday.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


def parse_duration(value: str | int | float) -> timedelta:
    """'30m', '8h', '2d' (a day is 24 hours of the clock the policy counts) or a number of minutes."""
    if isinstance(value, int | float):
        return timedelta(minutes=value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use 30m, 8h or 2d)")
    n, unit = float(m.group(1)), m.group(2)
    return timedelta(minutes=n) if unit == "m" else timedelta(hours=n) if unit == "h" else timedelta(days=n)


def _hours(spec: str) -> tuple[time, time]:
    start, end = (time.fromisoformat(s.strip()) for s in spec.split("-"))
    return start, end


@dataclass
class SlaPolicy:
    name: str
    first_response: dict[str, timedelta]
    resolution: dict[str, timedelta] = field(default_factory=dict)
    timezone: str = "UTC"
    # weekday -> (open, close); empty means around the clock every day
    hours: dict[int, tuple[time, time]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    around_the_clock: frozenset[str] = frozenset({"urgent"})

    @classmethod
    def from_dict(cls, name: str, d: dict) -> SlaPolicy:
        hours_spec = d.get("business_hours", "always")
        hours: dict[int, tuple[time, time]] = {}
        if hours_spec != "always":
            for day, spec in hours_spec.items():
                hours[DAYS.index(day.lower()[:3])] = _hours(spec)
        return cls(
            name=name,
            first_response={k: parse_duration(v) for k, v in d.get("first_response", {}).items()},
            resolution={k: parse_duration(v) for k, v in d.get("resolution", {}).items()},
            timezone=d.get("timezone", "UTC"),
            hours=hours,
            holidays=frozenset(date.fromisoformat(str(h)) for h in d.get("holidays", [])),
            around_the_clock=frozenset(d.get("around_the_clock", ["urgent"])),
        )

    def is_open(self, at: datetime) -> bool:
        if not self.hours:
            return True
        local = at.astimezone(ZoneInfo(self.timezone))
        span = self.hours.get(local.weekday())
        return bool(span) and local.date() not in self.holidays and span[0] <= local.time() < span[1]

    def due(self, start: datetime, priority: str, target: str = "first_response",
            calendar: DueCalendar | None = None) -> datetime | None:
        """When the target falls due for a case opened at `start`. `calendar`: this policy's `DueCalendar`,
        for a caller that computes many (the same answer, without walking the days each time)."""
        targets = self.first_response if target == "first_response" else self.resolution
        if priority not in targets:
            return None
        if not self.hours or priority in self.around_the_clock:
            return start + targets[priority]
        return (calendar or self).add_business_time(start, targets[priority])

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        tz = ZoneInfo(self.timezone)
        local = start.astimezone(tz)
        remaining = amount
        for _ in range(3 * 366):  # bounded: a calendar with no open day must not loop forever
            span = self.hours.get(local.weekday())
            if span and local.date() not in self.holidays:
                open_at = datetime.combine(local.date(), span[0], tz)
                close_at = datetime.combine(local.date(), span[1], tz)
                begin = max(local, open_at)
                if begin < close_at:
                    if begin + remaining <= close_at:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= close_at - begin
            local = datetime.combine(local.date() + timedelta(days=1), time(0), tz)
        raise ValueError(f"SLA policy {self.name} has no business hours to count in")


class DueCalendar:
    """`SlaPolicy.add_business_time` for many starts (the reports compute two due times for every case they
    fold). The open spans after a start's day are walked once per day and kept with their running total, so
    a due time is the start day's part and a bisection; one that does not depend on the start's time (before
    the opening, after the closing) is kept per day. Equal to the walk to the microsecond: the spans are
    wall-clock differences and sums of timedeltas, as the walk subtracts them (tests/routing/test_sla_calendar.py).
    """

    DAYS = 3 * 366  # the walk's bound: a calendar with no open day fails the same way

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        self.tz = ZoneInfo(policy.timezone)
        # day after a start's day -> (running totals of open time, each open day's opening, next day to read)
        self._after: dict[date, tuple[list[timedelta], list[datetime], list[date]]] = {}
        # day -> its (opening, closing) or None (closed): a start's own day, as the walk makes them. Asked for
        # every new case, most on the same few days: making them each time was a third of a due time.
        self._hours: dict[date, tuple[datetime, datetime] | None] = {}
        # (day, amount, before its opening, time zone asked in) -> the due time of any start then (see below).
        self._fixed: dict[tuple, datetime] = {}
        self._lock = threading.Lock()

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        tz = self.tz
        local = start.astimezone(tz)
        day = local.date()
        hours = self._hours.get(day, False)
        if hours is False:
            hours = self._day_hours(day)
        before_open = False  # the walk's `begin` (the later of the start and the opening) is the opening
        if hours is not None:
            open_at, close_at = hours
            if local > open_at:
                if local < close_at:  # inside the open span: counted from the start itself
                    if local + amount <= close_at:
                        return (local + amount).astimezone(start.tzinfo)
                    return self._after_day(day, amount - (close_at - local), start.tzinfo)
            elif open_at < close_at:
                before_open = True
        # Before the day's opening the walk counts from the opening, and after its closing (or on a closed day)
        # from the next open day: either way the answer does not depend on the start's time, only on its day.
        # Kept per day, amount and the time zone it is given in: the reports ask it for every new case, and a
        # night's or a weekend's cases (most of a catch-up pass's at once) share one.
        key = (day, amount, before_open, start.tzinfo)
        due = self._fixed.get(key)
        if due is None:
            if len(self._fixed) > 2_000:  # as `_after`: recent days are the ones asked again
                self._fixed.clear()
            if not before_open:
                due = self._after_day(day, amount, start.tzinfo)
            elif open_at + amount <= close_at:
                due = (open_at + amount).astimezone(start.tzinfo)
            else:
                due = self._after_day(day, amount - (close_at - open_at), start.tzinfo)
            self._fixed[key] = due  # the same value whoever makes it first: no lock needed
        return due

    def _after_day(self, day: date, remaining: timedelta, tzinfo) -> datetime:
        """The time `remaining` is counted by from the days after `day`."""
        with self._lock:  # a playbook's calendar may serve the worker and a page's preview at once
            totals, opens = self._spans(day, remaining)
            i = bisect_left(totals, remaining)  # the first open day by whose end the remaining time is counted
            return (opens[i] + (remaining - (totals[i - 1] if i else timedelta(0)))).astimezone(tzinfo)

    def _day_hours(self, day: date) -> tuple[datetime, datetime] | None:
        if len(self._hours) > 2_000:  # as `_after`: recent days are the ones asked again
            self._hours.clear()
        p, span = self.policy, self.policy.hours.get(day.weekday())
        hours = (datetime.combine(day, span[0], self.tz), datetime.combine(day, span[1], self.tz)) \
            if span and day not in p.holidays else None
        self._hours[day] = hours  # the same value whoever makes it first: no lock needed
        return hours

    def _spans(self, day: date, needed: timedelta) -> tuple[list[timedelta], list[datetime]]:
        if len(self._after) > 2_000:  # the days of recent cases are the ones asked again
            self._after.clear()
        totals, opens, cursor = self._after.setdefault(day, ([], [], [day + timedelta(days=1)]))
        p, tz, last = self.policy, self.tz, day + timedelta(days=self.DAYS - 1)
        while not totals or totals[-1] < needed:
            if cursor[0] > last:
                raise ValueError(f"SLA policy {p.name} has no business hours to count in")
            d = cursor[0]
            cursor[0] = d + timedelta(days=1)
            span = p.hours.get(d.weekday())
            if span and d not in p.holidays:
                open_at, close_at = datetime.combine(d, span[0], tz), datetime.combine(d, span[1], tz)
                if open_at < close_at:
                    totals.append((totals[-1] if totals else timedelta(0)) + (close_at - open_at))
                    opens.append(open_at)
        return totals, opens

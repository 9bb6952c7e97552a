"""How a customer champions (or runs down) the brand: a score from their messages, pure and self-contained.

Each inbound message is a signal: positive (sentiment positive, or praise), a recommendation (the text
recommends the organization to others), negative (sentiment negative), a complaint. Signals fade with age
(half-life HALF_LIFE_DAYS), so a customer who praised us last week outranks one who praised us two years
ago. Reach multiplies: a recommendation heard by 50,000 followers is worth more than one heard by 50, but
only logarithmically, so reach alone never makes an advocate.

    advocacy   = reach x sum(age weight x (1 + 2 if a recommendation))     over positive messages
    detraction = reach x sum(age weight x (1 + 1 if a complaint))          over negative messages
    advocate   when advocacy - detraction >= THRESHOLD; detractor when detraction - advocacy >= THRESHOLD

`movement` compares each customer's standing `window` ago (their messages until then, weighed then) with
today's: who went from advocate to detractor and back. Nothing here reads the database: the reports feature
may reuse these functions with its own rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

HALF_LIFE_DAYS = 90.0
# How far back a standing reads: older messages weigh under 6 % (and the trend looks back 12 weeks more).
HORIZON = timedelta(days=365)
TREND_WEEKS = 12
HISTORY = HORIZON + timedelta(weeks=TREND_WEEKS)
THRESHOLD = 1.0
RECOMMENDATION_BONUS = 2.0
COMPLAINT_BONUS = 1.0
# Phrases that recommend us to others (any language the triage marks positive still counts as positive).
_RECOMMENDS = re.compile(
    r"(?<!\w)(?:(?:highly |strongly |totally |would |definitely )?recommend(?:s|ed|ing)?(?! against)|"
    r"you (?:should|must|have to|gotta) (?:try|use|check)|check (?:them|it|this) out|must[- ]have|"
    r"go with|switch(?:ed)? to|5 stars|five stars|10/10|best (?:app|service|support|company|team|product))(?!\w)",
    re.I)
_NOT_RECOMMENDS = re.compile(r"(?<!\w)(?:(?:do not|don't|dont|never|wouldn't|would not|can't|cannot) recommend|"
                             r"recommend against)(?!\w)", re.I)


# The same patterns matched with case, for a text in ASCII lowered first: there IGNORECASE is ASCII's case and
# lowering changes no \w, so the answer is the same; matching without IGNORECASE took a quarter less (the
# reports' upkeep reads every positive message of a pass). Other texts keep IGNORECASE (its Unicode folds).
_RECOMMENDS_LOWER = re.compile(_RECOMMENDS.pattern)
_NOT_RECOMMENDS_LOWER = re.compile(_NOT_RECOMMENDS.pattern)


def recommends(text: str | None) -> bool:
    """Whether a message recommends the organization to others ('highly recommend', 'check them out'...)."""
    text = text or ""
    if text.isascii():
        text = text.lower()
        return bool(_RECOMMENDS_LOWER.search(text)) and not _NOT_RECOMMENDS_LOWER.search(text)
    return bool(_RECOMMENDS.search(text)) and not _NOT_RECOMMENDS.search(text)


def polarity(sentiment: str, intent: str | None) -> int:
    """1: a positive signal (sentiment positive, or praise not negative), -1: negative, 0: neither. The rule of
    `Signal.positive` and `negative`, for a caller that has the two fields without a Signal (the reports'
    upkeep adds tens of thousands of messages a pass: building a Signal each was most of adding them)."""
    if sentiment == "positive" or (intent == "praise" and sentiment != "negative"):
        return 1
    return -1 if sentiment == "negative" else 0


@dataclass(frozen=True, slots=True)
class Signal:
    """One inbound message, as the ranking sees it."""

    at: datetime
    sentiment: str = "neutral"  # positive, neutral, negative
    intent: str | None = None
    recommendation: bool = False
    complaint: bool = False

    @property
    def positive(self) -> bool:
        return polarity(self.sentiment, self.intent) == 1

    @property
    def negative(self) -> bool:
        return self.sentiment == "negative"


@dataclass(frozen=True, slots=True)
class Standing:
    contact_id: int
    advocacy: float
    detraction: float
    positive: int
    negative: int
    recommendations: int
    followers: int
    last_at: datetime | None

    @property
    def net(self) -> float:
        return self.advocacy - self.detraction

    @property
    def status(self) -> str:
        return status_of(self.net)


def status_of(net: float) -> str:
    """advocate at a net of THRESHOLD or more, detractor at -THRESHOLD or less, else neutral."""
    if net >= THRESHOLD:
        return "advocate"
    if -net >= THRESHOLD:
        return "detractor"
    return "neutral"


def age_weight(at: datetime, now: datetime) -> float:
    days = max(0.0, (now - at).total_seconds() / 86400)
    return 0.5 ** (days / HALF_LIFE_DAYS)


def reach_factor(followers: int) -> float:
    """1 with no followers, 2 at 10,000, 2.5 at a million: reach counts, but logarithmically."""
    return 1.0 + math.log10(1 + max(0, followers or 0)) / 4


def standing(contact_id: int, signals: Iterable[Signal], followers: int, now: datetime) -> Standing:
    """A customer's standing at `now` from their signals up to `now` (later ones are ignored)."""
    adv = det = 0.0
    pos = neg = rec = 0
    last = None
    for s in signals:
        if s.at > now:
            continue
        last = s.at if last is None or s.at > last else last
        w = age_weight(s.at, now)
        if s.positive:
            pos += 1
            rec += int(s.recommendation)
            adv += w * (1 + (RECOMMENDATION_BONUS if s.recommendation else 0))
        elif s.negative:
            neg += 1
            det += w * (1 + (COMPLAINT_BONUS if s.complaint else 0))
    f = reach_factor(followers)
    return Standing(contact_id, round(adv * f, 4), round(det * f, 4), pos, neg, rec, int(followers or 0), last)


History = tuple[list[Signal], int]  # (signals, followers)


def standings(histories: Mapping[int, History], now: datetime) -> list[Standing]:
    return [standing(cid, signals, followers, now) for cid, (signals, followers) in histories.items()]


def rank(histories: Mapping[int, History], now: datetime) -> tuple[list[Standing], list[Standing]]:
    """(advocates strongest first, detractors strongest first). Ties: the more recent, then the lower id."""
    return order(standings(histories, now))


def order(all_: Iterable[Standing]) -> tuple[list[Standing], list[Standing]]:
    """The ranking of standings however they were computed (the reports compute theirs from kept sums)."""
    all_ = list(all_)

    def recent(s: Standing) -> float:
        return -(s.last_at.timestamp() if s.last_at else 0.0)

    advocates = sorted((s for s in all_ if s.status == "advocate"), key=lambda s: (-s.net, recent(s), s.contact_id))
    detractors = sorted((s for s in all_ if s.status == "detractor"),
                        key=lambda s: (s.net, recent(s), s.contact_id))
    return advocates, detractors


@dataclass(frozen=True, slots=True)
class Move:
    contact_id: int
    before: str
    after: str
    standing: Standing


def movement(histories: Mapping[int, History], now: datetime, window: timedelta = timedelta(days=30)) -> list[Move]:
    """Customers whose standing crossed between advocate and detractor within `window` (either way), or
    became one from neutral; the strongest change first."""
    then = now - window
    moves = []
    for cid, (signals, followers) in histories.items():
        before = standing(cid, signals, followers, then).status
        current = standing(cid, signals, followers, now)
        if before != current.status and current.status != "neutral":
            moves.append(Move(cid, before, current.status, current))
        elif before != "neutral" and current.status == "neutral":
            moves.append(Move(cid, before, "neutral", current))
    order = {("advocate", "detractor"): 0, ("detractor", "advocate"): 0}
    return sorted(moves, key=lambda m: (order.get((m.before, m.after), 1), -abs(m.standing.net), m.contact_id))


def trend(histories: Mapping[int, History], now: datetime, points: int = 12,
          step: timedelta = timedelta(days=7)) -> list[tuple[datetime, dict[str, int]]]:
    """Advocates, detractors and neutrals at `points` moments `step` apart, oldest first, ending now."""
    return [(now - step * k, counts(histories, now - step * k)) for k in range(points - 1, -1, -1)]


def counts(histories: Mapping[int, History], now: datetime) -> dict[str, int]:
    """How many advocates, detractors and neutral customers at `now` (for trends over time)."""
    out = {"advocate": 0, "detractor": 0, "neutral": 0}
    for s in standings(histories, now):
        out[s.status] += 1
    return out

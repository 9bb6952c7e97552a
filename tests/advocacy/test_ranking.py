"""The ranking on hand-built histories whose order is known before the code runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from onevoice.advocacy.ranking import (
    THRESHOLD,
    Signal,
    counts,
    movement,
    polarity,
    rank,
    recommends,
    standing,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def pos(d: float, rec: bool = False) -> Signal:
    return Signal(at=days(d), sentiment="positive", intent="praise", recommendation=rec)


def neg(d: float, complaint: bool = True) -> Signal:
    return Signal(at=days(d), sentiment="negative", intent="complaint", complaint=complaint)


def test_a_known_order_of_advocates_and_detractors():
    histories = {
        1: ([pos(2, rec=True), pos(5, rec=True)], 10_000),      # recommends, recently, to many: first
        2: ([pos(2), pos(5), pos(9)], 10_000),                   # three praises, no recommendation
        3: ([pos(2, rec=True)], 0),                              # recommends once, and nobody hears it
        4: ([pos(300), pos(310), pos(320)], 10_000),             # praised us, most of a year ago
        5: ([pos(3), neg(4, complaint=False)], 500),             # one of each: neither
        6: ([neg(1), neg(2)], 200),                              # complains
        7: ([neg(1), neg(2), neg(3), neg(4)], 200),              # complains more: the first detractor
        8: ([Signal(at=days(1), sentiment="neutral", intent="question")], 1_000_000),  # reach alone is nothing
    }
    advocates, detractors = rank(histories, NOW)
    assert [s.contact_id for s in advocates] == [1, 2, 3]
    assert [s.contact_id for s in detractors] == [7, 6]
    assert standing(4, *histories[4], NOW).status == "neutral"  # faded below the threshold
    assert standing(5, *histories[5], NOW).status == "neutral"
    assert standing(8, *histories[8], NOW).status == "neutral"
    assert advocates[0].recommendations == 2 and advocates[1].positive == 3


def test_recency_and_reach_break_otherwise_equal_histories():
    same = [pos(10), pos(12)]
    older = [pos(100), pos(102)]
    advocates, _ = rank({1: (older, 100), 2: (same, 100), 3: (same, 5_000)}, NOW)
    assert [s.contact_id for s in advocates] == [3, 2, 1]


def test_messages_after_the_moment_asked_are_not_counted():
    s = standing(1, [pos(1), pos(2), pos(40)], 0, NOW - timedelta(days=30))
    assert s.positive == 1


def test_who_moved_between_advocate_and_detractor():
    histories = {
        1: ([pos(60, rec=True), pos(55, rec=True), neg(5), neg(4), neg(3), neg(2), neg(1)], 100),  # turned
        2: ([neg(70), neg(65), pos(6, rec=True), pos(4, rec=True), pos(2, rec=True)], 100),        # won back
        3: ([pos(60, rec=True), pos(2, rec=True)], 100),                                          # stayed
    }
    moves = {m.contact_id: (m.before, m.after) for m in movement(histories, NOW, timedelta(days=30))}
    assert moves == {1: ("advocate", "detractor"), 2: ("detractor", "advocate")}
    assert counts(histories, NOW) == {"advocate": 2, "detractor": 1, "neutral": 0}
    assert counts(histories, NOW - timedelta(days=30)) == {"advocate": 2, "detractor": 1, "neutral": 0}


def test_recommendations_are_read_from_the_text():
    assert recommends("I highly recommend @acme to everyone")
    assert recommends("You should try their new app, 10/10")
    assert recommends("Check them out!")
    assert not recommends("I would not recommend them")
    assert not recommends("don't recommend, terrible")
    assert not recommends("recommendation engine is broken")  # a word that only starts alike
    assert not recommends("")
    assert recommends("HIGHLY RECOMMEND them") and recommends("Five Stars") and not recommends("Would NOT Recommend")
    assert recommends("ſwitch to them") and recommends("chec\u212a them out")  # not ASCII: Unicode's case folds


@given(st.text(alphabet="recommndyouthiswgkab RECOMNDYUTHISWGKAB!-/10'\u212a\u017f\u0131", max_size=40))
def test_an_ascii_text_is_read_as_the_ignorecase_patterns_read_it(text):
    from onevoice.advocacy.ranking import _NOT_RECOMMENDS, _RECOMMENDS
    assert recommends(text) == (bool(_RECOMMENDS.search(text)) and not _NOT_RECOMMENDS.search(text))


signals = st.lists(st.builds(Signal, at=st.integers(0, 400).map(days),
                             sentiment=st.sampled_from(["positive", "neutral", "negative"]),
                             intent=st.sampled_from([None, "praise", "complaint", "question"]),
                             recommendation=st.booleans(), complaint=st.booleans()), max_size=12)


@settings(max_examples=60, deadline=None)
@given(signals, st.integers(0, 10_000_000), st.integers(0, 400))
def test_more_praise_never_lowers_a_customer(history, followers, age):
    before = standing(1, history, followers, NOW)
    after = standing(1, [*history, pos(age, rec=True)], followers, NOW)
    assert after.advocacy > before.advocacy and after.detraction == before.detraction
    assert standing(1, list(reversed(history)), followers, NOW) == before  # order of messages does not matter


def test_the_threshold_is_what_separates_the_lists():
    just = standing(1, [pos(0)], 0, NOW)
    assert just.net == THRESHOLD and just.status == "advocate"
    assert standing(1, [pos(1)], 0, NOW).status == "neutral"  # a day old: just under


def test_the_trend_counts_each_week_as_it_was():
    from onevoice.advocacy.ranking import trend

    histories = {1: ([pos(3, rec=True)], 100), 2: ([neg(20), neg(21)], 100), 3: ([pos(40, rec=True)], 100)}
    weeks = trend(histories, NOW, points=4)
    assert [at for at, _c in weeks] == [days(21), days(14), days(7), days(0)]
    assert [(c["advocate"], c["detractor"]) for _at, c in weeks] == [(1, 1), (1, 1), (1, 1), (2, 1)]


def test_polarity_is_the_signals_rule():
    # The reports add messages by `polarity` without building a Signal: the same sides for every combination.
    for sentiment in ("positive", "neutral", "negative", "mixed"):
        for intent in (None, "praise", "complaint", "question"):
            s = Signal(at=datetime(2026, 1, 1, tzinfo=UTC), sentiment=sentiment, intent=intent)
            positive = sentiment == "positive" or (intent == "praise" and sentiment != "negative")  # docs/advocacy.md
            assert s.positive == positive and s.negative == (sentiment == "negative")
            assert polarity(sentiment, intent) == (1 if positive else -1 if sentiment == "negative" else 0)

"""Folding what happened since into a case's stored facts gives what recomputing it from all its sources
gives (`fold_case` against `case_facts`, pure functions, random histories), and the pipeline's own traffic
folds (it is the upkeep's common path, not a fallback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from onevoice.reports.facts import (
    CaseRow,
    CaseSource,
    Context,
    EventRow,
    MessageRow,
    TeamRow,
    case_facts,
    signal_side,
)
from onevoice.reports.fold import fold_case
from onevoice.routing.sla import SlaPolicy

BUSINESS = SlaPolicy.from_dict("business", {
    "timezone": "UTC", "business_hours": {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"], "first_response": {"normal": "8h", "urgent": "30m"},
    "resolution": {"normal": "3d"}})
CTX = Context(policies={"business": BUSINESS}, default_policy="business", sales_team_id=4,
              user_teams={"sam": frozenset({1}), "pat": frozenset({2}), "both": frozenset({1, 2})})
T0 = datetime(2026, 12, 21, 8, tzinfo=UTC)
ACTORS = ("worker", "sam", "pat", "both")
KINDS = ("message.processed", "case.message_added", "case.teams_added", "case.priority_raised", "note",
         "case.status", "case.assigned", "case.handed_off", "reply.queued", "case.outcome", "incident.closed")
minutes = st.integers(0, 60 * 24 * 5)
inbound = st.builds(lambda at, kind, sentiment, status, lang, product, rec, complaint, deleted: MessageRow(
    "inbound", kind, T0 + timedelta(minutes=at, seconds=at % 7), status, sentiment, lang,
    [{"key": product}] if product else [], intent="complaint" if complaint else None, complaint=complaint,
    recommendation=rec, deleted=deleted),
    minutes, st.sampled_from(("mention", "direct", "review")),
    st.sampled_from(("positive", "negative", "neutral", None)),
    st.sampled_from(("processed", "processed", "failed")), st.sampled_from(("en", "de", None)),
    st.sampled_from((None, "app", "card")), st.booleans(), st.booleans(), st.booleans())
outbound = st.builds(lambda at, kind, status: MessageRow("outbound", kind, T0 + timedelta(minutes=at), status),
                     minutes, st.sampled_from(("direct", "comment")), st.sampled_from(("sent", "queued")))
status_data = st.sampled_from(({"from": "open", "to": "resolved"}, {"from": "resolved", "to": "open"},
                               {"from": "open", "to": "pending_customer"}))
event = st.builds(lambda at, kind, actor, data: EventRow(kind, actor, T0 + timedelta(minutes=at, seconds=at % 3),
                                                         data if kind == "case.status" else
                                                         {"outcome": "won", "amount": 10} if kind == "case.outcome"
                                                         else {}),
                  minutes, st.sampled_from(KINDS), st.sampled_from(ACTORS), status_data)
team = st.builds(lambda tid, role, at: TeamRow(tid, role, T0 + timedelta(minutes=at)),
                 st.sampled_from((1, 2, 4)), st.sampled_from(("lead", "collaborator")), minutes)
case_row = st.builds(lambda status, priority, intent, responded, resolved, lead: CaseRow(
    1, status, priority, T0 + timedelta(minutes=1), lead_team_id=lead, channel_id=3, contact_id=9, intent=intent,
    tags=["a"], sla_policy="business",
    first_response_at=T0 + timedelta(minutes=responded) if responded is not None else None,
    resolved_at=T0 + timedelta(minutes=resolved) if resolved is not None else None),
    st.sampled_from(("open", "resolved", "pending_customer")), st.sampled_from(("normal", "urgent")),
    st.sampled_from(("question", "sales_lead")), st.one_of(st.none(), minutes), st.one_of(st.none(), minutes),
    st.sampled_from((1, 2)))


def teams_of(rows: list[TeamRow]) -> list[TeamRow]:
    """One entry per team, the first (a team keeps the time it was added until it is removed)."""
    out: dict[int, TeamRow] = {}
    for t in rows:
        out.setdefault(t.team_id, t)
    return list(out.values())


def numbered(messages: list[MessageRow], start: int = 1) -> list[MessageRow]:
    for i, m in enumerate(messages):
        m.id = start + i
    return messages


@hsettings(max_examples=400, deadline=None)
@given(before=case_row, after=case_row, old_in=st.lists(inbound, max_size=4), old_out=st.lists(outbound, max_size=2),
       old_events=st.lists(event, max_size=5), new_in=st.lists(inbound, max_size=3),
       new_events=st.lists(event, max_size=4), old_teams=st.lists(team, max_size=3),
       joined=st.lists(team, max_size=1), fresh=st.booleans())
def test_a_fold_is_the_recomputation(before, after, old_in, old_out, old_events, new_in, new_events, old_teams,
                                     joined, fresh):
    # Whatever happened before and since, in any order: a fold either equals the recomputation over
    # everything or declines (then the upkeep recomputes).
    old_teams = teams_of(old_teams)
    now_teams = teams_of(old_teams + joined)
    old_src = CaseSource(before, numbered(old_in + old_out), old_events, old_teams)
    new = CaseSource(after, numbered(new_in, 100), new_events, now_teams)
    if fresh:  # a case seen for the first time: everything that happened to it is new
        old, old_team_rows = None, []
        full = CaseSource(after, new.messages, new_events, now_teams)
    else:
        old, old_team_rows = case_facts(old_src, CTX)
        full = CaseSource(after, old_src.messages + new.messages, old_events + new_events, now_teams)
    folded = fold_case(old, old_team_rows, new, CTX)
    if folded is not None:
        assert folded == case_facts(full, CTX)
    if not fresh:  # with what was folded before (the upkeep reads it when a team joined): the same answer
        folded = fold_case(old, old_team_rows, CaseSource(after, new.messages, new_events, now_teams,
                                                          history=old_events), CTX)
        if folded is not None:
            assert folded == case_facts(full, CTX)


FOLDS = ("message.processed", "case.message_added", "case.priority_raised", "note", "case.status", "case.assigned")


@hsettings(max_examples=200, deadline=None)
@given(before=case_row, after=case_row, old_in=st.lists(inbound, min_size=1, max_size=4),
       gaps=st.lists(st.integers(1, 600), min_size=0, max_size=3), new_events=st.lists(event, max_size=4),
       old_teams=st.lists(team, min_size=1, max_size=3))
def test_the_pipelines_traffic_folds(before, after, old_in, gaps, new_events, old_teams):
    # Messages that arrive after the last one, the pipeline's events and people's notes and status
    # changes (not their first action on a team in the same second as the stored one): always folded.
    old_teams = teams_of(old_teams)
    old_in = numbered(old_in)
    last = max(m.created_at for m in old_in)
    new_in = numbered([MessageRow("inbound", "mention", last + timedelta(seconds=sum(gaps[:i + 1])), "processed",
                                  "positive") for i in range(len(gaps))], 100)
    new_events = [EventRow(e.kind if e.kind in FOLDS else "case.message_added", "worker", e.created_at, e.data)
                  for e in new_events]
    after.first_response_at, after.intent = before.first_response_at, before.intent
    old, old_team_rows = case_facts(CaseSource(before, old_in, [], old_teams), CTX)
    folded = fold_case(old, old_team_rows, CaseSource(after, new_in, new_events, old_teams), CTX)
    assert folded is not None
    assert folded == case_facts(CaseSource(after, old_in + new_in, new_events, old_teams), CTX)
    # A team joins as the new message is routed to it (the pipeline's `case.teams_added`): folded with what
    # happened before, read for it, whatever its members did then.
    joined = teams_of(old_teams + [TeamRow(t, "collaborator", last + timedelta(seconds=1)) for t in (1, 2, 4)])
    old_events = [EventRow("note", actor, T0 + timedelta(minutes=i)) for i, actor in enumerate(ACTORS)]
    old, old_team_rows = case_facts(CaseSource(before, old_in, old_events, old_teams), CTX)
    new = CaseSource(after, new_in, [*new_events, EventRow("case.teams_added", "worker", last)], joined,
                     history=old_events)
    folded = fold_case(old, old_team_rows, new, CTX)
    assert folded is not None
    assert folded == case_facts(CaseSource(after, old_in + new_in, old_events + new.events, joined), CTX)


def _counted_sides(messages: list[MessageRow]) -> set[int]:
    return {signal_side(m) for m in messages} - {None, 0}


# Close in time (ties happen) and mostly counted by the advocacy rule (the order of its floating sums matters).
close = st.builds(lambda at, s, sentiment, kind, rec, complaint: MessageRow(
    "inbound", kind, T0 + timedelta(minutes=at, seconds=s), "processed", sentiment, "en", intent=None,
    complaint=complaint, recommendation=rec), st.integers(0, 30), st.sampled_from((0, 30)),
    st.sampled_from(("positive", "negative", "neutral")), st.sampled_from(("mention", "direct")), st.booleans(),
    st.booleans())
some = st.one_of(close, close, inbound)


@hsettings(max_examples=800, deadline=None)
@given(case=case_row, old_in=st.lists(some, min_size=1, max_size=8), new_in=st.lists(some, min_size=1, max_size=3),
       teams=st.lists(team, min_size=1, max_size=2), created=st.sampled_from((1, 60 * 24 * 6)))
def test_a_late_message_is_folded_in_its_place(case, old_in, new_in, teams, created):
    # Messages that arrive in any order against the stored ones (most of these are late: older than the case's
    # stored last message, or its first): the fold places them (first message, opening time, last message,
    # recovery, the advocacy sums' order) as the recomputation does, and declines only where the stored row
    # cannot say: a tie in time with the stored first or last message, a case opened at its own creation (the
    # first message's time not stored), a late advocacy signal on a side with stored signals, the recovery of
    # a case opened negative and answered.
    teams = teams_of(teams)
    case.created_at = T0 + timedelta(minutes=created)  # before the messages, or after them (the pipeline's)
    old_in, new_in = numbered(old_in), numbered(new_in, 100)
    old, old_team_rows = case_facts(CaseSource(case, old_in, [], teams), CTX)
    folded = fold_case(old, old_team_rows, CaseSource(case, new_in, [], teams), CTX)
    full, _ = whole = case_facts(CaseSource(case, old_in + new_in, [], teams), CTX)
    if folded is not None:
        assert folded == whole
        return
    old_times = {m.created_at for m in old_in}
    stored_counted = [m for m in old_in if signal_side(m) is not None]
    last_counted = max((m.created_at for m in stored_counted), default=None)
    late_signal = last_counted is not None and bool(
        _counted_sides([m for m in new_in if m.created_at <= last_counted]) & _counted_sides(stored_counted))
    assert any(m.created_at in old_times for m in new_in) or case.created_at <= min(old_times) or late_signal or \
        (full["opened_negative"] and case.first_response_at is not None), "declined a late message it could fold"


def test_the_usual_late_messages_are_folded():
    # The shapes the server meets (a sender's batch stored after another's): a neutral message between the
    # first and the last, a message before the first (the case now opened earlier, with its sentiment and
    # product), a signal on a side the case had none of; each folded, equal to the recomputation.
    case = CaseRow(1, "open", "normal", T0 + timedelta(hours=2), lead_team_id=1, channel_id=3, contact_id=9,
                   sla_policy="business")
    teams = [TeamRow(1, "lead", T0)]

    def at(minute: int, sentiment: str, mid: int, **kw) -> MessageRow:
        return MessageRow("inbound", "mention", T0 + timedelta(minutes=minute), "processed", sentiment, "en",
                          id=mid, **kw)

    stored = [at(10, "negative", 1), at(20, "neutral", 2), at(30, "negative", 3)]
    old, old_team_rows = case_facts(CaseSource(case, stored, [], teams), CTX)
    for late in ([at(25, "neutral", 7)], [at(5, "positive", 8, products=["app"])], [at(15, "positive", 9)],
                 [at(15, "neutral", 10), at(40, "negative", 11)]):
        folded = fold_case(old, old_team_rows, CaseSource(case, late, [], teams), CTX)
        assert folded is not None, late
        assert folded == case_facts(CaseSource(case, stored + late, [], teams), CTX)
    moved, _ = fold_case(old, old_team_rows, CaseSource(case, [at(5, "positive", 8)], [], teams), CTX)
    assert (moved["opened_at"], moved["opened_negative"]) == (T0 + timedelta(minutes=5), 0)


def test_messages_of_the_same_moment_fold_in_id_order():
    # A pass reads a case's messages in the order they were processed; two of the same moment may come with the
    # later id first (two senders' batches): the fold still takes the lower id as the first (fold._sorted).
    case = CaseRow(1, "open", "normal", T0, lead_team_id=1, channel_id=3, contact_id=9, sla_policy="business")
    teams = [TeamRow(1, "lead", T0)]
    at = T0 + timedelta(minutes=5)
    messages = [MessageRow("inbound", "direct", at, "processed", "negative", "de", id=2),
                MessageRow("inbound", "mention", at, "processed", "positive", "en", ["app"], id=1)]
    events = [EventRow("case.opened", "worker", at)]
    folded = fold_case(None, [], CaseSource(case, messages, events, teams), CTX)
    assert folded == case_facts(CaseSource(case, messages, events, teams), CTX)
    assert (folded[0]["kind"], folded[0]["opened_negative"]) == ("mention", 0)

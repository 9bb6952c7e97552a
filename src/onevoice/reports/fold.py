"""Folding what happened to a case since its facts were stored into them (reports/upkeep.py): pure functions,
equal to recomputing the case with `facts.case_facts` from all its sources (tests/reports/test_fold.py), or None
when the stored row does not say enough (then the upkeep recomputes the case)."""

from __future__ import annotations

from datetime import datetime, timedelta

from onevoice.reports.facts import (
    EFFORT_MINUTES,
    PUBLIC_KINDS,
    CaseRow,
    CaseSource,
    Context,
    EventRow,
    MessageRow,
    TeamRow,
    _actions,
    _case_row,
    _first,
    _in_order,
    _recovered,
    _reopens,
    _service,
    signal_side,
    signals,
    team_rows,
)

# The events whose whole effect on the facts can be added to the stored row: what they change on the case
# itself (status, priority, lead team, incident, first response and resolution times) is read again from
# the case's row on every fold. Any other event (a reply queued, sent or decided, an edit, a deletion, a
# merge, a triage correction, an outcome, an approval, a team removed or handed off: it may come back with
# a new time it was added) recomputes the case from all its sources.
FOLDABLE = frozenset({"message.processed", "case.opened", "case.closed_spam", "case.message_added",
                      "case.priority_raised", "case.teams_added", "case.status", "case.priority", "case.assigned",
                      "note", "incident.closed", "incident.reopened"})


def fold_case(old: dict | None, old_teams: list[dict], new: CaseSource, ctx: Context) -> tuple[dict, list[dict]] | None:
    """The facts of a case after `new` (its current row and teams, the messages and events since `old`
    was computed) happened to it: equal to `case_facts` over all its sources (tests/reports/test_fold.py),
    or None when that cannot be known from the stored row (then the upkeep recomputes the case).

    `old` None: the case is new (no facts yet), and `new` holds everything that happened to it.
    `new.history` (with the case's approvals): the events already folded, given when a team joined: the
    teams' parts are then counted from all the events, as the recomputation counts them.
    Folding reads what the new messages and events add (counts, sentiment, the advocacy sums, reopens,
    each team's actions and effort, its first action) and takes the rest from the case's row. A message older
    than the stored last one (a sender's batch stored after another's) is placed against the stored first and
    last ones (`_head`, `_recovered_now`, `_sums_fold`): recomputing its case cost ~10 folds.
    """
    case = new.case
    # Approvals come with the history only (each team's part); one decided since recomputes (upkeep.late_cases).
    if new.approvals and new.history is None:
        return None
    for e in new.events:  # loops, not any(): these run for every event and message of a pass
        if e.kind not in FOLDABLE:
            return None
    for m in new.messages:
        if m.direction != "inbound":
            return None
    if old is None:  # the case as it was before anything happened: no message, no event
        old, old_teams = _before(case, new.teams)
    inbound = _sorted(new.messages)
    last = old["last_message_at"]
    if old["messages_out"] and case.first_response_at is None:
        return None  # answered by a message sent outside the reply flow: its time is not stored
    responded = case.first_response_at
    if old["messages_in"]:
        placed = _head(old, case, inbound)
        if placed is None:
            return None  # a late message at the stored first one's time (or that one's time is not stored)
        opened_at, head = placed
    else:
        opened_at = min([case.created_at, *(m.created_at for m in inbound[:1])])
        head = _first(inbound[0] if inbound else None, case)
    service = _service(case, ctx, opened_at, responded)
    recovered = _recovered_now(old, head, responded, inbound)
    if recovered is UNKNOWN or not _sums_fold(old, inbound):
        return None
    resolved_public = None
    if service["resolved"] and head["kind"] in PUBLIC_KINDS:
        if old["resolved_public"] is not None:
            resolved_public = old["resolved_public"]  # the replies have not changed (a reply recomputes)
        elif old["messages_out"]:
            return None  # whether one of them went private is not stored
        else:
            resolved_public = 1
    events = sorted(new.events, key=lambda e: e.created_at)
    if new.history is not None:  # every team's part from all the events, as the recomputation counts it
        teams = team_rows(new, ctx, opened_at, sorted([*new.history, *new.events], key=lambda e: e.created_at))
    else:
        teams = _fold_teams(old_teams, events, new.teams, ctx, service["opened_day"])
    if teams is None:
        return None
    lead = case.intent == "sales_lead"
    if lead and not old["lead"]:
        return None  # became a lead: its outcome (an event) is not stored
    sentiments = [m.sentiment for m in inbound]
    reopens, effort = 0, 0
    for e in events:
        if _reopens(e):
            reopens += 1
        effort += EFFORT_MINUTES.get(e.kind, 0)
    facts = {
        **_case_row(case, ctx, {t.team_id for t in new.teams}, teams, old["lead_outcome"], old["lead_value"]),
        **service, **head,
        "reopens": old["reopens"] + reopens,
        "messages_in": old["messages_in"] + len(inbound), "messages_out": old["messages_out"],
        "positive": old["positive"] + sentiments.count("positive"),
        "negative": old["negative"] + sentiments.count("negative"),
        "neutral": old["neutral"] + sentiments.count("neutral"), "recovered": recovered,
        "resolved_public": resolved_public,
        "effort_s": old["effort_s"] + effort * 60,
        "last_message_at": max(last, inbound[-1].created_at) if inbound and last is not None else
        inbound[-1].created_at if inbound else last,
        **signals(inbound, old),
    }
    return facts, teams


def _sorted(messages: list[MessageRow]) -> list[MessageRow]:
    """The messages in (time, id) order. A pass reads a case's new messages in the order they were processed,
    which is almost always their order in time: checked first (one comparison each), that costs a quarter
    of sorting them by a (time, id) key (a busy case brings ~20 a pass)."""
    for i in range(1, len(messages)):
        if not messages[i - 1].created_at < messages[i].created_at:
            return sorted(messages, key=_in_order)
    return list(messages)


HEAD = ("kind", "language", "product", "opened_negative")  # the columns of the case's first inbound message
UNKNOWN = object()  # whether the case recovered depends on what the stored row does not say


def _head(old: dict, case: CaseRow, inbound: list[MessageRow]) -> tuple[datetime, dict] | None:
    """When a case that had inbound messages opened, and its first message's columns, with the new messages
    (in (time, id) order) placed against the stored first one: a message that arrived late may come before it.
    None when their order is not known: the stored first message's time is `opened_at` only when that is before
    the case's own creation (else `opened_at` is the case's time), and a tie in time would need its id."""
    kept = old["opened_at"], {k: old[k] for k in HEAD}
    if not inbound or inbound[0].created_at > old["last_message_at"]:
        return kept  # in order: after the stored last message
    early, opened_at = inbound[0], old["opened_at"]
    if early.created_at < opened_at:  # before the first message and the case's creation: the new first one
        return early.created_at, _first(early, case)
    if opened_at < case.created_at and early.created_at > opened_at:
        return kept
    return None


def _recovered_now(old: dict, head: dict, responded: datetime | None, inbound: list[MessageRow]):
    """Whether the case recovered (`facts._recovered`) with the new messages; UNKNOWN when that turns on the
    stored last message's sentiment, which is not stored: it is known only from whether the case recovered
    before, when it opened negative then and was answered at the same time (the stored time to the first
    response, from when it opened then)."""
    if not head["opened_negative"] or responded is None:
        return None
    last = old["last_message_at"]
    if inbound and (last is None or inbound[-1].created_at > last):
        return _recovered(1, responded, inbound[-1])  # a new message is the last one
    if last is None or last <= responded:
        return 0  # the last message (stored, or one at its time) is not after the answer
    if inbound and inbound[-1].created_at == last:
        return UNKNOWN  # a late message at the stored last one's time: which is last would need the ids
    if old["opened_negative"] and old["recovered"] is not None and \
            old["first_response_s"] == max(0, int((responded - old["opened_at"]).total_seconds())):
        return old["recovered"]
    return UNKNOWN


def _sums_fold(old: dict, inbound: list[MessageRow]) -> bool:
    """Whether adding the new messages' advocacy weights to the stored sums (`facts.signals`) gives the
    recomputation's floating sums to the last bit. The recomputation adds a case's weights in (time, id)
    order, and floating addition is not associative: a late signal may be added after stored ones of its side
    that come after it. Exact when its side had none stored, or one stored and one late (a + b == b + a); a
    stored weight's time is not kept, only the last counted message's (`signal_at`), so any new message not
    after that is taken as possibly before some."""
    since = old["signal_at"]
    if since is None or not inbound or inbound[0].created_at > since:
        return True
    for side, stored in ((1, old["adv_n"]), (-1, old["det_n"])):
        early = sum(1 for m in inbound if m.created_at <= since and signal_side(m) == side)
        if early and stored and not (stored == early == 1):
            return False
    return True


def _before(case: CaseRow, teams: list[TeamRow]) -> tuple[dict, list[dict]]:
    """What a fold reads of a case's facts before anything happened to it (what `case_facts` gives for no
    message and no event, in the columns a fold starts from)."""
    facts = {"messages_in": 0, "messages_out": 0, "last_message_at": None, "recovered": None,
             "resolved_public": None, "lead": int(case.intent == "sales_lead"), "lead_outcome": None,
             "lead_value": 0.0, "reopens": 0, "positive": 0, "negative": 0, "neutral": 0, "effort_s": 0,
             "first_response_s": None, "adv_w": 0.0, "det_w": 0.0, "adv_n": 0, "det_n": 0, "recommendations": 0,
             "signal_at": None}
    rows = [{"case_id": case.id, "team_id": t.team_id, "first_action_s": None, "approvals": 0, "approval_wait_s": 0,
             "approvals_pending": 0, "multi_team": 0, "replies": 0, "notes": 0, "handoffs": 0, "actions": 0,
             "effort_s": 0} for t in teams]
    return facts, rows


def _fold_teams(old_teams: list[dict], events: list[EventRow], teams: list[TeamRow], ctx: Context,
                opened_day: str) -> list[dict] | None:
    """Each team's stored part plus what its members did since; None when a team joined an existing case
    (what its members did before is not stored) or a new action may come before the stored first one."""
    stored = {t["team_id"]: t for t in old_teams}
    # Most increments are the pipeline's alone (its actor is no team's member): no team did anything.
    people = [e for e in events if e.actor in ctx.user_teams]
    out = []
    for t in sorted(teams, key=lambda t: t.team_id):
        row = stored.get(t.team_id)
        if row is None:
            return None
        row = {**row, "role": t.role, "opened_day": opened_day}
        if not people:
            out.append(row)
            continue
        mine = [e for e in people if t.team_id in ctx.user_teams[e.actor]]
        for k, v in _actions(mine).items():
            row[k] += v
        first = next((e.created_at for e in mine if e.created_at >= t.added_at), None)  # events sorted
        if first is not None and row["first_action_s"] is None:
            row["first_action_s"] = int((first - t.added_at).total_seconds())
        elif first is not None and first < t.added_at + timedelta(seconds=row["first_action_s"] + 1):
            return None  # within the stored first action's second: which came first is not stored
        out.append(row)
    return out

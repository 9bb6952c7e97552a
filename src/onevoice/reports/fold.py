"""Folding what happened to a case since its facts were stored into them (reports/upkeep.py): pure functions,
equal to recomputing the case with `facts.case_facts` from all its sources (tests/reports/test_fold.py), or None
when the stored row does not say enough (then the upkeep recomputes the case)."""

from __future__ import annotations

from datetime import timedelta

from onevoice.reports.facts import (
    EFFORT_MINUTES,
    PUBLIC_KINDS,
    CaseRow,
    CaseSource,
    Context,
    EventRow,
    TeamRow,
    _actions,
    _case_row,
    _first,
    _in_order,
    _recovered,
    _reopens,
    _service,
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
    each team's actions and effort, its first action) and takes the rest from the case's row.
    """
    case = new.case
    # Approvals come with the history only (each team's part); one decided since recomputes (upkeep.late_cases).
    if (new.approvals and new.history is None) or any(e.kind not in FOLDABLE for e in new.events) or \
            any(m.direction != "inbound" for m in new.messages):
        return None
    if old is None:  # the case as it was before anything happened: no message, no event
        old, old_teams = _before(case, new.teams)
    inbound = sorted(new.messages, key=_in_order)
    last = old["last_message_at"]
    if inbound and last is not None and inbound[0].created_at <= last:
        return None  # an earlier message arrived late: its place in the order matters (first, last, sums)
    had_inbound = old["messages_in"] > 0
    opened_at = old["opened_at"] if had_inbound else min([case.created_at, *(m.created_at for m in inbound[:1])])
    if old["messages_out"] and case.first_response_at is None:
        return None  # answered by a message sent outside the reply flow: its time is not stored
    responded = case.first_response_at
    service = _service(case, ctx, opened_at, responded)
    head = _first(inbound[0] if inbound else None, case) if not had_inbound else \
        {k: old[k] for k in ("kind", "language", "product", "opened_negative")}
    if inbound:
        recovered = _recovered(head["opened_negative"], responded, inbound[-1])
    elif head["opened_negative"] and responded is not None and old["first_response_s"] != service["first_response_s"]:
        return None  # answered since, with no message after: the last message's sentiment is not stored
    else:
        recovered = old["recovered"] if head["opened_negative"] and responded is not None else None
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
    facts = {
        **_case_row(case, ctx, {t.team_id for t in new.teams}, teams, old["lead_outcome"], old["lead_value"]),
        **service, **head,
        "reopens": old["reopens"] + sum(1 for e in events if _reopens(e)),
        "messages_in": old["messages_in"] + len(inbound), "messages_out": old["messages_out"],
        "positive": old["positive"] + sentiments.count("positive"),
        "negative": old["negative"] + sentiments.count("negative"),
        "neutral": old["neutral"] + sentiments.count("neutral"), "recovered": recovered,
        "resolved_public": resolved_public,
        "effort_s": old["effort_s"] + sum(EFFORT_MINUTES.get(e.kind, 0) for e in events) * 60,
        "last_message_at": inbound[-1].created_at if inbound else last,
        **signals(inbound, old),
    }
    return facts, teams


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

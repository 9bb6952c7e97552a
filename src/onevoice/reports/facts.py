"""A case's facts, computed from its source rows: pure functions, no database (docs/metrics.md defines each).

`case_facts(source, context)` is the one place a figure's per-case ingredient is decided; the upkeep, the
rebuild and the tests all go through it, which is why the incremental and rebuilt figures cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from onevoice.advocacy.ranking import COMPLAINT_BONUS, HALF_LIFE_DAYS, RECOMMENDATION_BONUS, polarity, recommends
from onevoice.routing.sla import DueCalendar, SlaPolicy

OPEN = ("open", "pending_customer", "pending_internal")
CLOSED = ("resolved", "closed_spam")
PUBLIC_KINDS = ("post", "comment", "mention", "review")
# Minutes of a person's time each recorded action stands for (docs/metrics.md, "Handling effort"). The
# events say what was done, not how long it took; these are the estimates a manager can argue with.
EFFORT_MINUTES = {"reply.queued": 6, "reply.awaiting_approval": 6, "note": 3, "case.handed_off": 2,
                  "case.teams_added": 1, "case.team_removed": 1, "case.assigned": 1, "case.status": 1,
                  "case.priority": 1, "triage.corrected": 1, "case.outcome": 2}
REPLY_KINDS = ("reply.queued", "reply.awaiting_approval")
APPROVAL_MINUTES = 3
# A signal's weight is stored as 2^((at - SIGNAL_EPOCH) / half-life): a standing at `now` is the sum times
# 0.5^((now - SIGNAL_EPOCH) / half-life), which is the advocacy rule's 0.5^(age / half-life) per message.
SIGNAL_EPOCH = datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC"))
HALF_LIFE_S = HALF_LIFE_DAYS * 86400


def signal_weight(at: datetime) -> float:
    return 2.0 ** ((at - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S)


def signals(inbound: list[MessageRow], start: dict | None = None) -> dict:
    """The case's part of its customer's advocacy standing (the rule of advocacy/ranking.py, `standing`),
    from `start` (the sums so far: the upkeep adds a case's new messages to its stored facts, in the same
    order a recomputation adds them, so that the floating sums come out the same to the last bit)."""
    start = start or {}
    adv, det = start.get("adv_w") or 0.0, start.get("det_w") or 0.0
    pos, neg, rec = start.get("adv_n") or 0, start.get("det_n") or 0, start.get("recommendations") or 0
    last = start.get("signal_at")
    # `signal_side` and `signal_weight` written out (the same operations, so the same floating sums): a fold
    # adds a few messages and a catch-up pass 70,000, two calls each were a fifth of folding a case.
    for m in inbound:
        if m.status != "processed" or m.deleted:
            continue
        sentiment = m.sentiment or "neutral"
        side = polarity(sentiment if sentiment.__class__ is str else str(sentiment), m.intent)
        at = m.created_at
        if last is None or at > last:
            last = at
        if side == 1:
            pos += 1
            rec += int(m.recommendation)
            adv += 2.0 ** ((at - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S) * \
                (1 + (RECOMMENDATION_BONUS if m.recommendation else 0))
        elif side == -1:
            neg += 1
            det += 2.0 ** ((at - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S) * \
                (1 + (COMPLAINT_BONUS if m.complaint else 0))
    return {"adv_w": adv, "det_w": det, "adv_n": pos, "det_n": neg, "recommendations": rec, "signal_at": last}


def recommended(direction: str | None, sentiment, intent, text: str | None) -> bool:
    """Whether a message counts as recommending us (MessageRow.recommendation). Read only of a positive inbound
    message (advocacy's Signal.positive: a positive sentiment, or praise): the phrases are looked for only where
    they can count (most messages are not)."""
    return direction == "inbound" and (sentiment == "positive" or intent == "praise") and recommends(text)


def signal_side(m: MessageRow) -> int | None:
    """A message's side in the advocacy sums: 1, -1, 0 (counted, neither side), None (not counted: unprocessed
    or deleted). The advocacy rule's Signal (`polarity` is its rule) without building one per message."""
    if m.status != "processed" or m.deleted:
        return None
    sentiment = m.sentiment or "neutral"
    return polarity(sentiment if sentiment.__class__ is str else str(sentiment), m.intent)


@dataclass(slots=True)
class CaseRow:
    id: int
    status: str
    priority: str
    created_at: datetime
    lead_team_id: int | None = None
    channel_id: int | None = None
    contact_id: int | None = None
    intent: str | None = None
    topic: str | None = None
    tags: list = field(default_factory=list)
    incident_id: int | None = None
    sla_policy: str | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(slots=True)
class MessageRow:
    direction: str
    kind: str
    created_at: datetime
    status: str = "processed"
    sentiment: str | None = None
    language: str | None = None
    products: list = field(default_factory=list)
    # What the advocacy rule reads (advocacy/ranking.py): counted only for processed, undeleted messages.
    intent: str | None = None
    complaint: bool = False
    recommendation: bool = False
    deleted: bool = False
    id: int = 0  # orders messages of the same moment (the advocacy sums are added in this order)


@dataclass(slots=True)
class EventRow:
    kind: str
    actor: str
    created_at: datetime
    data: dict = field(default_factory=dict)


@dataclass(slots=True)
class TeamRow:
    team_id: int
    role: str
    added_at: datetime


@dataclass
class ApprovalRow:
    team_id: int | None
    requested_at: datetime
    decided_at: datetime | None


@dataclass(slots=True)
class CaseSource:
    case: CaseRow
    messages: list[MessageRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    teams: list[TeamRow] = field(default_factory=list)
    approvals: list[ApprovalRow] = field(default_factory=list)
    # A fold's increment only: the events already folded into the stored facts, read when a team joined.
    history: list[EventRow] | None = None


_NO_DUE = (None, None)  # no policy: no due time


@dataclass
class Context:
    policies: dict[str, SlaPolicy] = field(default_factory=dict)
    default_policy: str | None = None
    user_teams: dict[str, frozenset[int]] = field(default_factory=dict)  # actor (email) -> team ids
    sales_team_id: int | None = None
    # ("calendar", policy name) -> its DueCalendar, ("due", policy name, start, priority) -> the two due times,
    # (policy name, start, end, priority) -> business seconds: counting business time was most of a fold's
    # work, and a case folded again keeps its start, priority and times. Shared by the contexts of one
    # playbook text.
    dues: dict = field(default_factory=dict)

    def due_times(self, policy: SlaPolicy | None, start: datetime, priority: str) -> tuple:
        """(first response, resolution) due times of a case opened at `start` (`SlaPolicy.due`, None where
        the priority has no target). The pair is kept: a case folded again (a message more, in the next pass)
        keeps its start and priority; a new case's start is new, and its pair is counted on the policy's
        calendar (most of them read off a day's kept answer: `DueCalendar`)."""
        if policy is None:
            return _NO_DUE
        key = ("due", policy.name, start, priority)
        # Looked up before a function to compute it is made (a fold asks them every time, most of them known).
        due = self.dues.get(key)
        if due is None:
            calendar = self._calendar(policy)
            due = self._keep(key, (policy.due(start, priority, "first_response", calendar),
                                   policy.due(start, priority, "resolution", calendar)))
        return due

    def _calendar(self, policy: SlaPolicy) -> DueCalendar:
        calendar = self.dues.get(("calendar", policy.name))
        if calendar is None:
            calendar = self.dues[("calendar", policy.name)] = DueCalendar(policy)
        return calendar

    def business_seconds(self, policy: SlaPolicy | None, start: datetime, end: datetime, priority: str) -> int:
        key = (policy.name if policy else None, start, end, priority)
        seconds = self.dues.get(key)
        return seconds if seconds is not None else self._keep(key, business_seconds(policy, start, end, priority))

    def _keep(self, key: tuple, value):
        """Keep a computed answer (asked only after a look-up missed: no function is made to compute it)."""
        if len(self.dues) > 50_000:  # the cases refolded soon matter; a big cache slows every GC pass
            self.dues.clear()
        self.dues[key] = value
        return value


def business_seconds(policy: SlaPolicy | None, start: datetime, end: datetime, priority: str = "normal") -> int:
    """Seconds between start and end that fall inside the policy's business hours (holidays excluded).
    Without hours, or for a priority counted around the clock, it is the wall clock."""
    if end <= start:
        return 0
    if policy is None or not policy.hours or priority in policy.around_the_clock:
        return int((end - start).total_seconds())
    tz = ZoneInfo(policy.timezone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day: date = local_start.date()
    while day <= local_end.date():
        span = policy.hours.get(day.weekday())
        if span and day not in policy.holidays:
            open_at = datetime.combine(day, span[0], tz)
            close_at = datetime.combine(day, span[1], tz) if span[1] != time(0) else \
                datetime.combine(day + timedelta(days=1), time(0), tz)
            lo, hi = max(open_at, local_start), min(close_at, local_end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return int(total)


def _met(done: datetime | None, due: datetime | None) -> int | None:
    return None if due is None or done is None else int(done <= due)


def _policy(case: CaseRow, ctx: Context) -> SlaPolicy | None:
    return ctx.policies.get(case.sla_policy or "") or ctx.policies.get(ctx.default_policy or "")


def _service(case: CaseRow, ctx: Context, opened_at: datetime, responded: datetime | None) -> dict:
    """The service times and SLA columns, from when the case opened and was first answered (and its row)."""
    policy = _policy(case, ctx)
    resolved_at = case.resolved_at if case.status == "resolved" else None

    def span(end: datetime | None) -> tuple[int | None, int | None]:
        if end is None:
            return None, None
        return max(0, int((end - opened_at).total_seconds())), ctx.business_seconds(policy, opened_at, end,
                                                                                    case.priority)

    fr_s, fr_bh = span(responded)
    res_s, res_bh = span(resolved_at)
    fr_due, res_due = ctx.due_times(policy, opened_at, case.priority)
    return {"opened_at": opened_at, "opened_day": opened_at.date().isoformat(),
            "first_response_s": fr_s, "first_response_bh_s": fr_bh, "resolution_s": res_s, "resolution_bh_s": res_bh,
            "first_response_due": fr_due, "resolution_due": res_due,
            "first_response_met": _met(responded, fr_due), "resolution_met": _met(resolved_at, res_due),
            "resolved": int(resolved_at is not None)}


def _case_row(case: CaseRow, ctx: Context, team_ids: set[int], teams: list[dict], outcome: str | None,
              value: float) -> dict:
    """The columns that come from the case's row and its teams (read again on every fold)."""
    lead = int(case.intent == "sales_lead")
    acted = 0
    for t in teams:
        if t["actions"]:
            acted += 1
    for t in teams:
        t["multi_team"] = int(acted >= 2)
    return {"case_id": case.id, "lead_team_id": case.lead_team_id, "channel_id": case.channel_id,
            "contact_id": case.contact_id, "status": case.status, "priority": case.priority, "intent": case.intent,
            "tags": "," + ",".join(sorted(map(str, case.tags))) + "," if case.tags else ",,",
            "team_count": max(1, len(team_ids)), "acted_team_count": acted, "incident_id": case.incident_id,
            "lead": lead, "lead_handed": int(lead and ctx.sales_team_id in team_ids),
            "lead_outcome": (outcome or "open") if lead else None, "lead_value": value if lead else 0.0}


def _first(first: MessageRow | None, case: CaseRow) -> dict:
    """The columns that come from the case's first inbound message."""
    return {"kind": first.kind if first else None, "language": (first.language or None) if first else None,
            "product": _product(first, case), "opened_negative": int(bool(first) and first.sentiment == "negative")}


def _recovered(opened_negative: int, responded: datetime | None, last: MessageRow | None) -> int | None:
    """Of a case that opened negative and was answered: is the customer's last message after the answer
    neutral or positive (the last inbound message is the last one after the answer, if any is)."""
    if not opened_negative or responded is None:
        return None
    return int(last is not None and last.created_at > responded and last.sentiment in ("neutral", "positive"))


def case_facts(src: CaseSource, ctx: Context) -> tuple[dict, list[dict]]:
    """(the case's facts row, one row per team with a part in it)."""
    case = src.case
    inbound = sorted((m for m in src.messages if m.direction == "inbound"), key=_in_order)
    outbound = sorted((m for m in src.messages if m.direction == "outbound" and m.status == "sent"),
                      key=lambda m: m.created_at)
    opened_at = min([case.created_at, *(m.created_at for m in inbound[:1])])
    first = inbound[0] if inbound else None
    responded = case.first_response_at or (outbound[0].created_at if outbound else None)
    service = _service(case, ctx, opened_at, responded)
    events = sorted(src.events, key=lambda e: e.created_at)
    reopens = sum(1 for e in events if _reopens(e))
    sentiments = [m.sentiment for m in inbound]
    resolved_public = None
    if service["resolved"] and first is not None and first.kind in PUBLIC_KINDS:
        resolved_public = int(not any(m.kind == "direct" for m in outbound))
    outcome, value = None, 0.0
    for e in events:
        if e.kind == "case.outcome":
            outcome, value = e.data.get("outcome"), float(e.data.get("amount") or 0)
    team_ids = {t.team_id for t in src.teams}
    teams = team_rows(src, ctx, opened_at, events)
    effort = sum(EFFORT_MINUTES.get(e.kind, 0) for e in events) * 60 + \
        sum(APPROVAL_MINUTES * 60 for a in src.approvals if a.decided_at is not None)
    head = _first(first, case)
    facts = {
        **_case_row(case, ctx, team_ids, teams, outcome, value), **service, **head,
        "reopens": reopens, "messages_in": len(inbound), "messages_out": len(outbound),
        "positive": sentiments.count("positive"), "negative": sentiments.count("negative"),
        "neutral": sentiments.count("neutral"), "recovered": _recovered(head["opened_negative"], responded,
                                                                        inbound[-1] if inbound else None),
        "resolved_public": resolved_public, "effort_s": effort,
        "last_message_at": inbound[-1].created_at if inbound else None,
        **signals(inbound),
    }
    return facts, teams


_in_order = attrgetter("created_at", "id")  # (time, id): what orders a case's inbound messages


def _reopens(e: EventRow) -> bool:
    return e.kind == "case.status" and e.data.get("from") in CLOSED and e.data.get("to") in OPEN


def _product(first: MessageRow | None, case: CaseRow) -> str | None:
    if first is not None and first.products:
        p = first.products[0]
        return str(p.get("key") or p.get("name") if isinstance(p, dict) else p)[:200]
    return None


def _actions(mine: list[EventRow]) -> dict:
    """What a team's members did (the countable part of its row)."""
    return {"replies": sum(1 for e in mine if e.kind in REPLY_KINDS),
            "notes": sum(1 for e in mine if e.kind == "note"),
            "handoffs": sum(1 for e in mine if e.kind == "case.handed_off"),
            "actions": sum(1 for e in mine if e.kind in EFFORT_MINUTES),
            "effort_s": sum(EFFORT_MINUTES.get(e.kind, 0) for e in mine) * 60}


_NO_ACTIONS = _actions([])  # a team whose members did nothing in the case (copied into its row)


def team_rows(src: CaseSource, ctx: Context, opened_at: datetime, events: list[EventRow]) -> list[dict]:
    """Each team's part: an action counts for every team of the case the actor belongs to."""
    out = []
    day, case_id, user_teams = opened_at.date().isoformat(), src.case.id, ctx.user_teams
    # A team member's events, picked once: most of a case's are the pipeline's, and each of its teams (five
    # in a busy case) looked at every one; with none (nor approvals) every team has the empty counts.
    people = [e for e in events if e.actor in user_teams]
    for t in sorted(src.teams, key=lambda t: t.team_id):
        mine = [e for e in people if t.team_id in user_teams[e.actor]] if people else people
        first_action = next((e.created_at for e in mine if e.created_at >= t.added_at), None)
        approvals = [a for a in src.approvals if a.team_id == t.team_id] if src.approvals else src.approvals
        row = {"case_id": case_id, "team_id": t.team_id, "opened_day": day,
               "role": t.role, "multi_team": 0, **(_actions(mine) if mine else _NO_ACTIONS),
               "first_action_s": int((first_action - t.added_at).total_seconds()) if first_action else None,
               "approvals": len(approvals),
               "approval_wait_s": sum(int((a.decided_at - a.requested_at).total_seconds())
                                      for a in approvals if a.decided_at is not None),
               "approvals_pending": sum(1 for a in approvals if a.decided_at is None)}
        if approvals:
            row["effort_s"] += sum(APPROVAL_MINUTES * 60 for a in approvals if a.decided_at is not None)
        out.append(row)
    return out

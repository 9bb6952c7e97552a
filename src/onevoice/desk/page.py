"""Everything the case page shows, in one read: the case, conversation with triage, customer, routing,
teams, assignment, notes and history, delivery state of replies, approvals."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onevoice.approvals import service as approvals
from onevoice.auth.principal import Principal
from onevoice.auth.users import list_users, user_name
from onevoice.cases.access import visible_case
from onevoice.cases.actions import case_team_keys
from onevoice.cases.outcome import OUTCOMES, current_outcome, may_set_outcome
from onevoice.cases.partner_view import names_only, staff_on_case
from onevoice.cases.service import get_case, teams_of_case
from onevoice.channels.service import channel_kind
from onevoice.outbox.service import length_limit
from onevoice.teams.service import team_names_by_id, teams_by_name
from onevoice.triage.types import INTENTS, SENTIMENTS


def case_page(session: Session, who: Principal, case_id: int) -> dict:
    case = visible_case(session, who, case_id)
    detail = get_case(session, case.id, who)
    waiting = approvals.pending_for_case(session, case.id)
    jobs = approvals.delivery_for_case(session, case.id)
    team_names = team_names_by_id(session) if waiting else {}
    asked = {mid: {
        "id": a.id, "status": a.status, "reason": a.reason, "decided_by": a.decided_by, "note": a.decision_note,
        "team": team_names.get(a.approver_team_id), "requested_at": a.requested_at, "due_at": a.due_at,
        "decided_at": a.decided_at, "may_decide": a.status == "pending" and approvals.may_approve(session, who, a)}
        for mid, a in waiting.items()}
    if who.by_grant:  # history and approvals record who acted by email; a partner reads names
        names_only(session, detail, asked.values())
    # The page's context: the case as the API gives it (as plain values, times as text), and beside it what
    # only the page shows; the templates and the library's variables (`library.variables_for`) read its keys.
    data = detail.model_dump()
    data["teams"] = teams_of_case(session, case.id)
    data["lead_team"], _ = case_team_keys(session, case.id)
    data["all_teams"] = teams_by_name(session)
    data["team_names"] = {t["key"]: t["name"] for t in data["all_teams"]}  # the history names teams, not keys
    # Staff see everyone to assign; a partner only the people working on this case, by name.
    data["users"] = staff_on_case(session, case) if who.by_grant else list_users(session)
    # History records who acted by email; people read names (a partner's copy was rewritten above).
    data["names"] = {} if who.by_grant else {u["email"]: u["name"] for u in data["users"]}
    data["assignee_id"] = case.assignee_id
    data["assignee"] = user_name(session, case.assignee_id) if case.assignee_id else None
    if case.assignee_id and all(u["id"] != case.assignee_id for u in data["users"]):
        data["users"].append({"id": case.assignee_id, "name": data["assignee"]})  # shown as it is, by name
    for m in data["messages"]:
        if m["direction"] == "outbound":  # who replied, by name (a reply records its sender's address)
            label = m["author"].get("name")
            m["sent_by"] = data["names"].get(label, label) or "Us"
        j = jobs.get(m["id"])
        m["approval"] = asked.get(m["id"])
        m["delivery"] = None if j is None else {"status": j.status, "attempts": j.attempts, "error": j.last_error}
    pending = [a for a in waiting.values() if a.status == "pending"]
    data["waiting_approval"] = bool(pending)
    data["waiting_since"] = min((a.requested_at for a in pending), default=None)
    data["may_approve"] = approvals.may_approve(session, who)
    data["latest_message_id"] = max((m["id"] for m in data["messages"]), default=0)
    kind = channel_kind(session, case.channel_id)
    data["channel_kind"], data["length_limit"] = kind, length_limit(kind)
    data["notes"] = [e for e in data["events"] if e["kind"] == "note"]
    data["intents"], data["sentiments"] = INTENTS, SENTIMENTS
    data["can_act"] = who.can_act
    if case.intent == "sales_lead":  # Sales sets the lead's outcome (cases/outcome.py)
        data["outcome"] = current_outcome(session, case.id) or {"outcome": "open"}
        data["outcomes"], data["may_set_outcome"] = OUTCOMES, may_set_outcome(who)
    data["sla_due"], data["last_at"] = case.sla_due_at, case.last_message_at
    return data

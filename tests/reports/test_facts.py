"""Case facts with answers computed by hand (docs/metrics.md): business hours across a weekend and a holiday,
a reopened case, a case two teams worked, a negative case recovered."""

from __future__ import annotations

from datetime import UTC, datetime

from onevoice.reports.facts import (
    ApprovalRow,
    CaseRow,
    CaseSource,
    Context,
    EventRow,
    MessageRow,
    TeamRow,
    business_seconds,
    case_facts,
)
from onevoice.routing.sla import SlaPolicy

BUSINESS = SlaPolicy.from_dict("business", {
    "timezone": "UTC", "business_hours": {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"], "first_response": {"normal": "8h", "urgent": "30m"},
    "resolution": {"normal": "3d"}})
SUPPORT, PRODUCT = 1, 2
CTX = Context(policies={"business": BUSINESS}, default_policy="business",
              user_teams={"sam@acme.test": frozenset({SUPPORT}), "pat@acme.test": frozenset({PRODUCT})})


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_business_hours_skip_the_holiday_and_the_weekend():
    # Thursday 24 Dec 17:00 -> Monday 28 Dec 10:00: Thursday 17-18 (1 h), Friday the 25th is a holiday,
    # the weekend is closed, Monday 9-10 (1 h): two business hours, 89 wall-clock hours.
    start, end = at(24, 17), at(28, 10)
    assert business_seconds(BUSINESS, start, end) == 2 * 3600
    assert business_seconds(BUSINESS, start, end, priority="urgent") == 89 * 3600  # around the clock
    src = CaseSource(CaseRow(id=1, status="open", priority="normal", created_at=start, sla_policy="business",
                             first_response_at=end),
                     messages=[MessageRow("inbound", "mention", start, sentiment="negative")])
    facts, _ = case_facts(src, CTX)
    assert facts["first_response_s"] == 89 * 3600
    assert facts["first_response_bh_s"] == 2 * 3600
    # 8 business hours from Thursday 17:00: one that day, seven on Monday -> due Monday 16:00; met at 10:00.
    assert facts["first_response_due"] == at(28, 16)
    assert facts["first_response_met"] == 1
    assert facts["opened_day"] == "2026-12-24" and facts["resolved"] == 0 and facts["resolution_s"] is None


def test_a_reopened_case_counts_once_and_is_timed_to_its_last_resolution():
    opened = at(30, 9, month=11)  # a Monday
    events = [EventRow("case.status", "sam@acme.test", at(30, 10, month=11), {"from": "open", "to": "resolved"}),
              EventRow("case.status", "sam@acme.test", at(30, 11, month=11), {"from": "resolved", "to": "open"}),
              EventRow("case.status", "sam@acme.test", at(30, 12, month=11), {"from": "open", "to": "resolved"})]
    src = CaseSource(CaseRow(id=2, status="resolved", priority="normal", created_at=opened, sla_policy="business",
                             resolved_at=at(30, 12, month=11)), events=events,
                     messages=[MessageRow("inbound", "direct", opened, sentiment="neutral")])
    facts, _ = case_facts(src, CTX)
    assert facts["reopens"] == 1
    assert facts["resolved"] == 1
    assert facts["resolution_s"] == facts["resolution_bh_s"] == 3 * 3600
    assert facts["resolution_met"] == 1
    assert facts["resolved_public"] is None  # it began in a direct message: never public
    assert facts["effort_s"] == 3 * 60  # three status changes, a minute each


def test_a_case_two_teams_worked():
    opened = at(1, 9)  # Tuesday 1 Dec
    src = CaseSource(
        CaseRow(id=3, status="resolved", priority="normal", created_at=opened, lead_team_id=SUPPORT,
                sla_policy="business", first_response_at=at(1, 9, 12), resolved_at=at(1, 11)),
        messages=[MessageRow("inbound", "mention", opened, sentiment="negative"),
                  MessageRow("outbound", "mention", at(1, 9, 12), status="sent"),
                  MessageRow("inbound", "mention", at(1, 9, 40), sentiment="positive")],
        events=[EventRow("reply.queued", "sam@acme.test", at(1, 9, 10)),
                EventRow("note", "pat@acme.test", at(1, 10, 30)),
                EventRow("case.status", "sam@acme.test", at(1, 11), {"from": "open", "to": "resolved"})],
        teams=[TeamRow(SUPPORT, "lead", opened), TeamRow(PRODUCT, "collaborator", at(1, 9, 30))],
        approvals=[ApprovalRow(PRODUCT, at(1, 9, 30), at(1, 9, 50))])
    facts, teams = case_facts(src, CTX)
    support, product = teams
    assert facts["team_count"] == 2 and facts["acted_team_count"] == 2
    assert support["role"] == "lead" and product["role"] == "collaborator"
    assert support["first_action_s"] == 600 and product["first_action_s"] == 3600
    assert support["replies"] == 1 and product["notes"] == 1 and support["notes"] == 0
    assert support["multi_team"] == product["multi_team"] == 1
    assert product["approvals"] == 1 and product["approval_wait_s"] == 1200 and product["approvals_pending"] == 0
    # reply 6 min + status 1 min for Support; note 3 min + one approval decided (3 min) for Product
    assert support["effort_s"] == 7 * 60 and product["effort_s"] == 6 * 60
    assert facts["effort_s"] == 13 * 60
    # opened negative, the customer's last message after our reply is positive: recovered; all in public.
    assert facts["opened_negative"] == 1 and facts["recovered"] == 1 and facts["resolved_public"] == 1
    assert facts["first_response_s"] == 12 * 60 and facts["messages_in"] == 2 and facts["messages_out"] == 1


def test_no_reply_no_recovery_and_pending_sla_left_open():
    opened = at(1, 9)
    src = CaseSource(CaseRow(id=4, status="open", priority="normal", created_at=opened, sla_policy="business"),
                     messages=[MessageRow("inbound", "mention", opened, sentiment="negative")])
    facts, teams = case_facts(src, CTX)
    assert facts["recovered"] is None and facts["first_response_met"] is None and teams == []
    assert facts["first_response_due"] == at(1, 17)  # missed only once it is past, decided at query time


def test_a_sales_lead_with_its_outcome():
    src = CaseSource(CaseRow(id=5, status="open", priority="normal", created_at=at(1, 9), intent="sales_lead",
                             lead_team_id=7),
                     events=[EventRow("case.outcome", "sam@acme.test", at(2, 9), {"outcome": "won", "amount": 1200})],
                     teams=[TeamRow(7, "lead", at(1, 9))])
    facts, _ = case_facts(src, Context(sales_team_id=7))
    assert facts["lead"] == 1 and facts["lead_handed"] == 1 and facts["lead_outcome"] == "won"
    assert facts["lead_value"] == 1200.0


def test_due_times_are_kept_per_start_and_priority_and_equal_the_policys():
    # A case folded again asks the same two due times (same start, same priority): answered from the kept pair.
    ctx = Context(policies={"business": BUSINESS}, default_policy="business")
    start = at(24, 17)
    pair = ctx.due_times(BUSINESS, start, "normal")
    assert pair == (BUSINESS.due(start, "normal", "first_response"), BUSINESS.due(start, "normal", "resolution"))
    assert pair[0] == at(28, 16)  # 25 Dec a holiday
    assert ctx.due_times(BUSINESS, start, "normal") is pair
    # Urgent: around the clock, and no resolution target.
    assert ctx.due_times(BUSINESS, start, "urgent") == (start + BUSINESS.first_response["urgent"], None)
    assert ctx.due_times(BUSINESS, start, "none") == (None, None) == ctx.due_times(None, start, "normal")

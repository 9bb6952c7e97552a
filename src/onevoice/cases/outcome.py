"""A sales lead's outcome, set by Sales (or a coordinator or admin): won with an amount, lost, or open.

Recorded as a `case.outcome` event in the case's history, like every other change to a case, which is what
the reports read (reports/facts.py: the latest `case.outcome` event gives the lead's outcome and value).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.cases.access import actionable_case
from onevoice.cases.actions import live_update, record
from onevoice.errors import Forbidden, InvalidInput
from onevoice.events.models import Event

OUTCOMES = ("open", "won", "lost")
SALES_TEAM = "sales"
MAX_AMOUNT = Decimal("1000000000000")  # a trillion: anything larger is a typo, not a deal
CURRENCY = re.compile(r"^[A-Z]{3}$")


def may_set_outcome(who: Principal) -> bool:
    """Sales people who act on cases, coordinators and admins."""
    return who.sees_all or (who.can_act and SALES_TEAM in who.team_keys)


def parse_amount(raw: object) -> float:
    """A positive amount with at most two decimals, as typed in a form or sent as a JSON number."""
    text = str(raw).strip().replace(",", "") if raw is not None else ""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"the amount must be a number, e.g. 1200.50 (got {text[:40]!r})") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise InvalidInput(f"the amount is a positive number up to {MAX_AMOUNT:,}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("the amount has at most two decimals")
    return float(amount)


def current_outcome(session: Session, case_id: int) -> dict | None:
    """The latest outcome recorded on the case (None: never set, i.e. open)."""
    data = session.scalar(select(Event.data).where(Event.case_id == case_id, Event.kind == "case.outcome")
                          .order_by(Event.id.desc()).limit(1))
    return dict(data) if data else None


def set_outcome(session: Session, who: Principal, case_id: int, outcome: str, amount: object = None,
                currency: str | None = None, org_currency: str | None = None) -> dict:
    """Record a lead's outcome. `won` needs an amount; its currency must be the organization's (`org_currency`,
    when given), since the reports add the amounts up. Setting the same outcome again records nothing."""
    if not may_set_outcome(who):
        raise Forbidden("a lead's outcome is set by Sales, a coordinator or an admin")
    outcome = (outcome or "").strip().lower()
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome[:40]!r}: use one of {', '.join(OUTCOMES)}")
    case = actionable_case(session, who, case_id)
    if case.intent != "sales_lead":
        raise InvalidInput("only a sales lead has an outcome (correct the case's intent first if it is one)")
    data: dict = {"outcome": outcome}
    if outcome == "won":
        if amount is None or str(amount).strip() == "":
            raise InvalidInput("a won lead needs its amount")
        code = (currency or org_currency or "").strip().upper()
        if not CURRENCY.match(code):
            raise InvalidInput("the currency is a three-letter ISO 4217 code, e.g. EUR")
        if org_currency and code != org_currency.upper():
            raise InvalidInput(f"amounts are recorded in {org_currency.upper()}, the organization's currency "
                               "(the reports add them up): convert it first")
        data.update(amount=parse_amount(amount), currency=code)
    elif amount is not None and str(amount).strip() not in ("", "0"):
        raise InvalidInput(f"only a won lead has an amount (this one is {outcome})")
    last = current_outcome(session, case.id) or {"outcome": "open"}
    before = {k: last.get(k) for k in data}  # only what this outcome says (an older event may carry more)
    if before == data:
        return live_update(session, case, who.label, "case.outcome")
    data["from"] = before["outcome"]
    return record(session, case, who, "case.outcome", data)

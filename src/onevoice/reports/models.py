"""The reports' aggregates: one row of facts per case and one per (case, team), kept incrementally.

Every figure on /reports is a SUM, COUNT or percentile over these rows for a date range, never a scan of
messages or events: the events that touch a case are folded into its facts, or the case recomputed from
its source rows when a fold cannot decide (`reports.upkeep`), and `onevoice reports rebuild` recomputes them
all. Rows are keyed by the day the case
opened (`opened_day`, 'YYYY-MM-DD' in UTC) so a period is one index range.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from onevoice.db import Base, utcnow

# Open now (reports.facts.OPEN), written out: a partial index's condition is part of the schema, and a query
# uses the index only where it states the same condition with the same values (metrics.open_now).
OPEN_CASES = "status IN ('open', 'pending_customer', 'pending_internal')"


def _present(column: str) -> dict:
    """A partial index's condition on both databases: the rows where `column` has a value."""
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


class CaseFacts(Base):
    __tablename__ = "report_case_facts"
    __table_args__ = (
        # A period's cases; with the channel and the customer, a period's customers (a distinct count) read the
        # index only: looking each case up for its customer was half of that count (SQLite), and PostgreSQL
        # walked the whole customer index instead.
        Index("ix_report_case_facts_day", "opened_day", "lead_team_id", "channel_id", "contact_id"),
        Index("ix_report_case_facts_contact", "contact_id", "opened_day"),
        # The backlog: open now, any period; with the opening time its count, age and median read the index only.
        Index("ix_report_case_facts_status", "status", "lead_team_id", "opened_at"),
        # The open cases in opening order: the backlog's median age is read by walking it to the middle (an
        # OFFSET), not by sorting every open case (70,000 at full size) as the status index needs.
        Index("ix_report_case_facts_open", "opened_at", "lead_team_id", "channel_id", "status",
              sqlite_where=text(OPEN_CASES), postgresql_where=text(OPEN_CASES)),
        # This one and the four value indexes below hold only the cases with a value (most new cases have none):
        # every statement that reads them compares the value, which proves it is not NULL, so both databases
        # use them as they would a whole index; a new case was written into each (a catch-up pass inserts
        # ~6,400 facts rows: the eleven indexes were most of it). Migration 0030.
        Index("ix_report_case_facts_incident", "incident_id", **_present("incident_id")),
        # Past-due cases still waiting (the only time-dependent part of SLA attainment) and the exact
        # medians: a quantile's bucket comes from the daily histogram, its value from one of these ranges.
        Index("ix_report_case_facts_fr_pending", "first_response_met", "opened_day", "first_response_due",
              "lead_team_id", "channel_id"),
        Index("ix_report_case_facts_res_pending", "resolution_met", "opened_day", "resolution_due", "lead_team_id",
              "channel_id"),
        Index("ix_report_case_facts_fr", "first_response_s", "opened_day", "lead_team_id", "channel_id",
              **_present("first_response_s")),
        Index("ix_report_case_facts_fr_bh", "first_response_bh_s", "opened_day", "lead_team_id", "channel_id",
              **_present("first_response_bh_s")),
        Index("ix_report_case_facts_res", "resolution_s", "opened_day", "lead_team_id", "channel_id",
              **_present("resolution_s")),
        Index("ix_report_case_facts_res_bh", "resolution_bh_s", "opened_day", "lead_team_id", "channel_id",
              **_present("resolution_bh_s")),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column()
    opened_day: Mapped[str] = mapped_column(String(10))
    lead_team_id: Mapped[int | None] = mapped_column(default=None)
    channel_id: Mapped[int | None] = mapped_column(default=None)
    contact_id: Mapped[int | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    intent: Mapped[str | None] = mapped_column(String(40), default=None)
    kind: Mapped[str | None] = mapped_column(String(20), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    product: Mapped[str | None] = mapped_column(String(200), default=None)
    tags: Mapped[str] = mapped_column(String(500), default="")  # ",a,b," so that LIKE '%,tag,%' finds one
    team_count: Mapped[int] = mapped_column(default=1)
    acted_team_count: Mapped[int] = mapped_column(default=0)
    incident_id: Mapped[int | None] = mapped_column(default=None)
    # Service: seconds; NULL when it has not happened yet.
    first_response_s: Mapped[int | None] = mapped_column(BigInteger, default=None)
    first_response_bh_s: Mapped[int | None] = mapped_column(BigInteger, default=None)
    resolution_s: Mapped[int | None] = mapped_column(BigInteger, default=None)
    resolution_bh_s: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # When the SLA wanted each (NULL: no target for the priority), and 1 met / 0 missed once it happened.
    # A case still waiting past its due time counts as missed at query time: the facts hold no clock.
    first_response_due: Mapped[datetime | None] = mapped_column(default=None)
    resolution_due: Mapped[datetime | None] = mapped_column(default=None)
    first_response_met: Mapped[int | None] = mapped_column(default=None)
    resolution_met: Mapped[int | None] = mapped_column(default=None)
    resolved: Mapped[int] = mapped_column(default=0)
    reopens: Mapped[int] = mapped_column(default=0)
    messages_in: Mapped[int] = mapped_column(default=0)
    messages_out: Mapped[int] = mapped_column(default=0)
    positive: Mapped[int] = mapped_column(default=0)
    negative: Mapped[int] = mapped_column(default=0)
    neutral: Mapped[int] = mapped_column(default=0)
    opened_negative: Mapped[int] = mapped_column(default=0)
    # Of cases that opened negative and got a reply: 1 when the customer's last message after it is not negative.
    recovered: Mapped[int | None] = mapped_column(default=None)
    # Resolved with every reply in public (1), or moved to a direct message (0); NULL while unresolved.
    resolved_public: Mapped[int | None] = mapped_column(default=None)
    effort_s: Mapped[int] = mapped_column(BigInteger, default=0)
    lead: Mapped[int] = mapped_column(default=0)  # a sales lead (intent sales_lead)
    lead_handed: Mapped[int] = mapped_column(default=0)  # Sales has a part in it
    lead_outcome: Mapped[str | None] = mapped_column(String(10), default=None)  # won, lost, open
    lead_value: Mapped[float] = mapped_column(default=0.0)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)
    # The advocacy rule's ingredients (advocacy/ranking.py): each inbound message's weight as 2^(age from
    # SIGNAL_EPOCH / half-life), so that a customer's standing at any moment is a sum over their cases times
    # one factor (reports/ranking.py). adv_n/det_n count the rule's positive and negative messages.
    adv_w: Mapped[float] = mapped_column(Double, default=0.0)
    det_w: Mapped[float] = mapped_column(Double, default=0.0)
    adv_n: Mapped[int] = mapped_column(default=0)
    det_n: Mapped[int] = mapped_column(default=0)
    recommendations: Mapped[int] = mapped_column(default=0)
    signal_at: Mapped[datetime | None] = mapped_column(default=None)


class TeamFacts(Base):
    """One team's part in one case: how it came in, what it did, how long it waited to act."""

    __tablename__ = "report_team_facts"
    __table_args__ = (Index("ix_report_team_facts_team_day", "team_id", "opened_day"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    opened_day: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(20))
    multi_team: Mapped[int] = mapped_column(default=0)  # two or more teams acted on the case
    replies: Mapped[int] = mapped_column(default=0)
    notes: Mapped[int] = mapped_column(default=0)
    handoffs: Mapped[int] = mapped_column(default=0)
    actions: Mapped[int] = mapped_column(default=0)
    first_action_s: Mapped[int | None] = mapped_column(BigInteger, default=None)  # from being added
    approvals: Mapped[int] = mapped_column(default=0)
    approval_wait_s: Mapped[int] = mapped_column(BigInteger, default=0)  # decided approvals only
    approvals_pending: Mapped[int] = mapped_column(default=0)
    effort_s: Mapped[int] = mapped_column(BigInteger, default=0)


# --- the per-day aggregates: sums of the facts above, kept with them (reports/aggregate.py) ---------------
# Keys hold 0 for "no team" / "no channel" (a primary key column cannot be NULL on PostgreSQL). A row whose
# count falls to 0 is deleted, so the kept and the rebuilt tables are equal row for row.


class DailyFacts(Base):
    """Per day opened x lead team x channel: the counts and sums every service, reputation and lead figure reads."""

    __tablename__ = "report_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(primary_key=True)
    cases: Mapped[int] = mapped_column(default=0)
    messages_in: Mapped[int] = mapped_column(BigInteger, default=0)
    messages_out: Mapped[int] = mapped_column(BigInteger, default=0)
    fr_met: Mapped[int] = mapped_column(default=0)
    fr_missed: Mapped[int] = mapped_column(default=0)  # answered late (still waiting past due: at query time)
    res_met: Mapped[int] = mapped_column(default=0)
    res_missed: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    ever_resolved: Mapped[int] = mapped_column(default=0)
    positive: Mapped[int] = mapped_column(BigInteger, default=0)
    negative: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered: Mapped[int] = mapped_column(default=0)
    recovery_eligible: Mapped[int] = mapped_column(default=0)
    leads: Mapped[int] = mapped_column(default=0)
    leads_handed: Mapped[int] = mapped_column(default=0)
    leads_won: Mapped[int] = mapped_column(default=0)
    leads_lost: Mapped[int] = mapped_column(default=0)
    won_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # integers: kept sums stay exact
    resolved_public: Mapped[int] = mapped_column(default=0)
    moved_private: Mapped[int] = mapped_column(default=0)


class DailyVolume(Base):
    """Per day x lead team x channel: cases and inbound messages by message kind, intent, language, product."""

    __tablename__ = "report_daily_volume"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(primary_key=True)
    dim: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "" for none
    cases: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)


class DailyHistogram(Base):
    """Per day x team x channel x time figure: how many cases fell in each bucket (reports/aggregate.BUCKETS).
    The service times use the lead team; `first_action` the acting team (channel 0)."""

    __tablename__ = "report_daily_hist"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class DayHistogram(Base):
    """Per day x service time figure, the whole organization: DailyHistogram's service-time rows summed over
    teams and channels. A report with no team or channel filter reads these (~2,800 rows for 28 days at full
    size) instead of the day x team x channel rows (~28,000)."""

    __tablename__ = "report_day_hist"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class MonthHistogram(Base):
    """Per calendar month ('2026-05') x team x channel x time figure: DailyHistogram's rows summed over the
    month's days. A team's or a channel's report over a long period reads its whole months here and only the
    days at either end from DailyHistogram (Support's 320 days: ~20,000 rows where the days were ~200,000)."""

    __tablename__ = "report_month_hist"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class DailyTeam(Base):
    """Per day x team: its part in the cases opened that day (the sums of TeamFacts)."""

    __tablename__ = "report_daily_team"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    parts: Mapped[int] = mapped_column(default=0)
    led: Mapped[int] = mapped_column(default=0)
    collaborated: Mapped[int] = mapped_column(default=0)
    acted: Mapped[int] = mapped_column(default=0)
    replies: Mapped[int] = mapped_column(default=0)
    notes: Mapped[int] = mapped_column(default=0)
    handoffs: Mapped[int] = mapped_column(default=0)
    multi_team: Mapped[int] = mapped_column(default=0)
    approvals: Mapped[int] = mapped_column(default=0)
    approval_wait_s: Mapped[int] = mapped_column(BigInteger, default=0)
    approvals_pending: Mapped[int] = mapped_column(default=0)
    effort_s: Mapped[int] = mapped_column(BigInteger, default=0)


# The to_day of a customer's (or a team's customer's) last row: report_contact_days, report_team_contact_days.
LAST_DAY = "9999-12-31"


class ContactDay(Base):
    """Per customer and day a case of theirs opened: the sums of their cases opened on or before that day
    (CaseFacts.adv_w, det_w), which are their standing's sums until the next such day (`to_day`; '9999-12-31'
    for the last), and until when (in half-lives since SIGNAL_EPOCH) those sums make them an advocate, or a
    detractor (reports/ranking.py `until`, with their followers now; NULL: not on that side at any moment):
    a standing decays predictably, so a moment's advocates are the rows valid at its day with a key past the
    moment, an index range (`ranking.by_days`), whatever cases the customers had since. Recomputed from the
    facts for every customer of a touched case (`repository.refresh_keys`). `keys_last` and `keys_next`: per
    team that led a case of theirs and per channel, the last day such a case opened by this row's first day
    and the first on or after its end (reports/matches.py), so that a team's or a channel's report counts its
    customers from the same index ranges (read with the keys: the indexes cover them)."""

    __tablename__ = "report_contact_days"
    __table_args__ = (Index("ix_report_contact_days_adv", "to_day", "adv_until", "from_day", "keys_last",
                            "keys_next"),
                      Index("ix_report_contact_days_det", "to_day", "det_until", "from_day", "keys_last",
                            "keys_next"),
                      # A period's customers: one row each begun in the period and valid at its end (a range
                      # of this index, where a distinct count of the period's cases sorted 26,000 customers).
                      Index("ix_report_contact_days_from", "from_day", "to_day"))

    contact_id: Mapped[int] = mapped_column(primary_key=True)
    from_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    to_day: Mapped[str] = mapped_column(String(10))
    adv_w: Mapped[float] = mapped_column(Double, default=0.0)
    det_w: Mapped[float] = mapped_column(Double, default=0.0)
    adv_until: Mapped[float | None] = mapped_column(Double, default=None)
    det_until: Mapped[float | None] = mapped_column(Double, default=None)
    keys_last: Mapped[str] = mapped_column(Text, default="")
    keys_next: Mapped[str] = mapped_column(Text, default="")


class TeamContactDay(Base):
    """Per team, customer and day a case of theirs led by the team opened: valid until the team's next such
    day (`to_day`, '9999-12-31' for the last), with the customer's first case's day (any team: `first_day`),
    so that a team's report counts its customers and its returning ones from one index range
    (reports/team_customers.py). Recomputed from the facts with the customer's rows by day (ContactDay)."""

    __tablename__ = "report_team_contact_days"
    __table_args__ = (Index("ix_report_team_contact_days_range", "team_id", "from_day", "to_day", "first_day"),)

    contact_id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)
    from_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    to_day: Mapped[str] = mapped_column(String(10))
    first_day: Mapped[str] = mapped_column(String(10))


class ReportState(Base):
    """Where the incremental upkeep has got to in the events table."""

    __tablename__ = "report_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Objective(Base):
    """A target a team (or the organization, team_id NULL) sets itself on one figure."""

    __tablename__ = "report_objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), default=None)
    metric: Mapped[str] = mapped_column(String(60))
    comparator: Mapped[str] = mapped_column(String(2))  # "<=" or ">="
    target: Mapped[float] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(320), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

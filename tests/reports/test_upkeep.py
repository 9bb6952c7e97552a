"""The incremental facts equal the rebuilt ones after any sequence of pipeline and people's actions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from onevoice.auth.principal import Principal
from onevoice.cases.actions import add_team, set_status
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.contacts.models import Contact
from onevoice.contacts.service import link_contacts
from onevoice.db import make_sessionmaker, unit_of_work, utcnow
from onevoice.desk.handoff import hand_off
from onevoice.desk.notes import add_note
from onevoice.events.models import Event
from onevoice.messages.models import Message
from onevoice.privacy import erasure
from onevoice.reports import advocate_side, metrics
from onevoice.reports.aggregate import SERVICE_TIMES
from onevoice.reports.facts import HALF_LIFE_S, SIGNAL_EPOCH, case_facts
from onevoice.reports.models import CaseFacts, ContactDay, TeamContactDay, TeamFacts
from onevoice.reports.ranking import advocacy_ranking, moment, rankings
from onevoice.reports.repository import AGGREGATES, context, insert_rows, sources
from onevoice.reports.repository import state as repo_state
from onevoice.reports.upkeep import OVERLAP, plan, rebuild, upkeep_job, write
from onevoice.settings import Settings
from onevoice.teams.models import Team
from tests.factories import message
from tests.scripted_triage import ScriptedTriager

pytestmark = pytest.mark.both_databases
WINDOW = OVERLAP["postgresql"]

TEXTS = ("my order never arrived", "thanks, love it", "what is the pricing?", "is it open?", "terrible, refund",
         "the router x is broken", "phone z and router x, thanks")
STATUSES = ("open", "pending_customer", "resolved", "open", "resolved")
TEAMS = ("product", "pr", "legal", "sales")
op = st.one_of(
    st.tuples(st.just("message"), st.integers(0, 3), st.sampled_from(TEXTS)),
    # A message whose processing event has no triage fields in its data: written before the pipeline put them
    # there, or emptied by an erasure or retention (the upkeep then reads them from the message).
    st.tuples(st.just("bare"), st.integers(0, 3), st.sampled_from(TEXTS)),
    # A message older than the newest stored (customer n % 4, (n // 4) x 6 s before it: at its time, among the
    # case's messages or before them all): a sender's batch stored after another's.
    st.tuples(st.just("late"), st.integers(0, 47), st.sampled_from(TEXTS)),
    st.tuples(st.just("status"), st.integers(0, 20), st.sampled_from(STATUSES)),
    st.tuples(st.just("team"), st.integers(0, 20), st.sampled_from(TEAMS)),
    st.tuples(st.just("handoff"), st.integers(0, 20), st.sampled_from(TEAMS)),
    st.tuples(st.just("note"), st.integers(0, 20), st.sampled_from(("sam", "lena", "lee"))),
    st.tuples(st.just("upkeep"), st.just(0), st.just("")),
)


def snapshot(session_factory) -> tuple[list, list, dict]:
    """The facts and every per-day aggregate, row for row."""
    with session_factory() as s:
        cases = [tuple(r) for r in s.execute(select(CaseFacts.__table__).order_by(CaseFacts.case_id))]
        teams = [tuple(r) for r in s.execute(select(TeamFacts.__table__).order_by(TeamFacts.case_id,
                                                                                   TeamFacts.team_id))]
        daily = {name: [tuple(r) for r in s.execute(select(table).order_by(*table.primary_key.columns))]
                 for name, table in (*AGGREGATES.items(), ("contact_days", ContactDay.__table__),
                                     ("team_contact_days", TeamContactDay.__table__))}
    return cases, teams, daily


def assert_kept_equals_rebuilt(session_factory) -> tuple[list, list, dict]:
    """The facts and aggregates the upkeep kept are those `rebuild` computes afresh (returns the kept ones)."""
    incremental = snapshot(session_factory)
    rebuild(session_factory)
    rebuilt = snapshot(session_factory)
    # Every table exactly, the rows by day (report_contact_days, with the standing's keys) too: they are
    # recomputed from the facts. (report_contacts, whose floating sums were kept by adding and taking away, is
    # gone: migration 0028.)
    assert incremental == rebuilt
    return incremental


def test_the_pipeline_and_peoples_actions_are_folded(session_factory, pipeline, org):
    # The upkeep's common path: new cases, a message joining a case, a note, a resolution and a reopening
    # are folded into the stored facts (not recomputed from every message), and the result is the rebuild's.
    pipeline(message(channel="xcom", text="my order never arrived", author="c1"),
             message(channel="xcom", text="thanks, love it", author="c2"))
    first = upkeep_job(session_factory)
    assert first.cases == first.folded == 2  # new cases fold from nothing
    pipeline(message(channel="xcom", text="my order never arrived", author="c1"))
    with unit_of_work(session_factory) as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        add_note(s, org["sam"], ids[0], "looking into it")
        set_status(s, org["lee"], ids[1], "resolved")
    with unit_of_work(session_factory) as s:
        set_status(s, org["lee"], ids[1], "open")
    second = upkeep_job(session_factory)
    # PostgreSQL recomputes the cases with events of the last seconds (a lower event id can commit late).
    postgres = session_factory.kw["bind"].dialect.name == "postgresql"
    assert second.cases >= 2 and (postgres or second.folded == second.cases)
    with session_factory() as s:
        facts = {r.case_id: r for r in s.execute(select(CaseFacts.case_id, CaseFacts.messages_in, CaseFacts.reopens,
                                                        CaseFacts.effort_s))}
    assert facts[ids[0]].messages_in == 2 and facts[ids[0]].effort_s > 0 and facts[ids[1]].reopens == 1
    assert_kept_equals_rebuilt(session_factory)


def test_a_team_joining_a_case_is_folded_with_what_its_members_did_before(session_factory, pipeline, org):
    # A team brought into a case that has facts: its members' earlier notes count for it (read with the
    # case's history, not by recomputing the case from every message).
    pipeline(message(channel="xcom", text="my order never arrived", author="c1"))
    upkeep_job(session_factory)
    with unit_of_work(session_factory) as s:
        case_id = s.scalar(select(Case.id))
        add_note(s, org["lee"], case_id, "before PR joins")  # Lee is in Support and PR
    upkeep_job(session_factory)
    with unit_of_work(session_factory) as s:
        add_team(s, org["lee"], case_id, "product")
        add_team(s, org["lee"], case_id, "pr")
    result = upkeep_job(session_factory)
    postgres = session_factory.kw["bind"].dialect.name == "postgresql"
    assert result.cases == 1 and (postgres or result.folded == 1)
    with session_factory() as s:
        pr = s.scalar(select(Team.id).where(Team.key == "pr"))
        assert s.scalar(select(TeamFacts.notes).where(TeamFacts.case_id == case_id, TeamFacts.team_id == pr)) == 1
    assert_kept_equals_rebuilt(session_factory)


def test_a_case_s_tags_and_a_message_s_products_are_read_as_stored(session_factory, pipeline):
    # They are read as text and decoded only when not the empty list (repository._json): the decoded values
    # are the ORM's, on either database, empty or not.
    from onevoice.messages.models import Message
    mids = pipeline(message(channel="xcom", text="my order never arrived", author="t1"),
                    message(channel="xcom", text="thanks, love it", author="t2"))
    products = [{"key": "router-x", "name": "Router X"}, "plain"]
    with unit_of_work(session_factory) as s:
        m = s.get(Message, mids[0])
        m.triage = {**(m.triage or {}), "products": products}
        s.get(Case, m.case_id).tags = ["vip", "refund"]
        tagged = m.case_id
    with session_factory() as s:
        read = {src.case.id: src for src in sources(s, s.scalars(select(Case.id)).all())}
        orm = {c.id: c for c in s.scalars(select(Case))}
    assert read[tagged].case.tags == ["vip", "refund"] and read[tagged].messages[0].products == products
    assert all(src.case.tags == (orm[i].tags if orm[i].tags is not None else None) for i, src in read.items())
    assert [m.products for i, src in read.items() if i != tagged for m in src.messages] == [[]]


def test_the_plain_sqlite_insert_stores_what_sqlalchemys_stores(session_factory, pipeline):
    # The facts rows go in as tuples through each column's bind processor (reports.repository.insert_rows):
    # byte for byte what SQLAlchemy's insert stores (times in UTC text, floats, NULLs), or the read side differs.
    pipeline(message(channel="xcom", text="my order never arrived", author="c1"),
             message(channel="xcom", text="thanks, love it", author="c2"))
    with unit_of_work(session_factory) as s:
        a, b = s.scalars(select(Case.id).order_by(Case.id))
        src = sources(s, [a], None)[0]
        src.case.created_at = src.case.created_at.astimezone(timezone(timedelta(hours=-5)))  # any zone: stored UTC
        src.case.first_response_at = src.case.created_at + timedelta(minutes=7, microseconds=5)
        row, _ = case_facts(src, context(s))
        row["adv_w"] = 1 / 3
        insert_rows(s, CaseFacts.__table__, [row])
        s.execute(CaseFacts.__table__.insert(), [{**row, "case_id": b}])
    with session_factory() as s:
        plain, core = s.connection().exec_driver_sql(
            f"SELECT * FROM report_case_facts WHERE case_id IN ({a}, {b}) ORDER BY case_id").all()
    assert plain[1:] == core[1:] and plain[0] == a and core[0] == b
    if session_factory.kw["bind"].dialect.name == "sqlite":  # (PostgreSQL: SQLAlchemy's insert, both rows)
        assert {type(v) for v in plain} <= {int, float, str, type(None)}


def test_a_pass_is_not_written_over_another_runners(session_factory, pipeline, org):
    # Every web node runs the upkeep: a pass computed from what another runner has written meanwhile would
    # add the same events twice. Its write sees the watermark moved and writes nothing.
    pipeline(message(channel="xcom", text="my order never arrived", author="c1"))
    with make_sessionmaker(session_factory.kw["bind"], readonly=True)() as s:
        stale = plan(s)
    assert stale.cases
    upkeep_job(session_factory)
    with unit_of_work(session_factory) as s:
        assert not write(s, stale)
    assert_kept_equals_rebuilt(session_factory)


JANUARY = metrics.Scope(start=date(2027, 1, 15), end=date(2027, 1, 21),
                        now=datetime(2027, 1, 22, 12, 0, tzinfo=UTC))


def advocacy_counts(session_factory, scope) -> tuple:
    with session_factory() as s:
        r = advocacy_ranking(s, scope)
    return (r["advocate_count"], r["detractor_count"], [a["contact_id"] for a in r["advocates"]],
            [d["contact_id"] for d in r["detractors"]])


def no_overlap(monkeypatch) -> None:
    """PostgreSQL's upkeep recomputes the cases with events of the last 5 s (upkeep.OVERLAP), which in a test
    are all of them: without it, as for any case of a customer whose last event is older."""
    monkeypatch.setitem(OVERLAP, "postgresql", timedelta(0))


def test_a_customer_s_reach_that_changes_without_a_case_of_theirs_moves_their_standing(session_factory,
                                                                                     pipeline, monkeypatch):
    # Ana's one kind word (reach 1) has decayed under an advocate's +1 by January (her case is older than the
    # report's three periods: she is counted by her kept keys). Her reply in Ben's thread joins Ben's case, so
    # none of her cases has an event, but it brings her million followers (reach 2.5): she is an advocate as
    # `onevoice reports rebuild` says, and her keys follow.
    no_overlap(monkeypatch)
    pipeline(message(channel="xcom", author="ana", text="thanks, love it", followers=0),
             message(channel="xcom", author="ben", text="is it open?", followers=0, external_id="ben-1"))
    upkeep_job(session_factory)
    assert advocacy_counts(session_factory, JANUARY)[0] == 0
    pipeline(message(channel="xcom", author="ana", text="is it open?", followers=1_000_000, in_reply_to="ben-1"))
    upkeep_job(session_factory)
    with session_factory() as s:
        ana = s.scalar(select(Contact.id).where(Contact.handle == "@ana"))
        assert s.scalar(select(Case.contact_id).join(Message, Message.case_id == Case.id)
                        .where(Message.external_id == "ben-1")) != ana  # her reply is on Ben's case
    kept = advocacy_counts(session_factory, JANUARY)
    rebuild(session_factory)
    assert kept == advocacy_counts(session_factory, JANUARY) == (1, 0, [ana], [])
    assert_kept_equals_rebuilt(session_factory)


def test_a_failed_message_s_reach_moves_its_author_s_standing(session_factory, pipeline, monkeypatch):
    # A message whose triage fails is kept (failed, retryable) but its batch stored what it brought to its author:
    # Ana's million followers. No case has an event, so her kept keys stayed those of her reach before (not an
    # advocate by January) while a rebuild made her one. The failed message now keeps her contact and the
    # upkeep follows its author, as for a processed one.
    no_overlap(monkeypatch)
    pipeline(message(channel="xcom", author="ana", text="thanks, love it", followers=0))
    upkeep_job(session_factory)
    assert advocacy_counts(session_factory, JANUARY)[0] == 0
    scripted = ScriptedTriager.one

    def one(self, item):
        if "boom" in item.text:
            raise RuntimeError("the model broke")
        return scripted(self, item)

    monkeypatch.setattr(ScriptedTriager, "one", one)
    [mid] = pipeline(message(channel="xcom", author="ana", text="boom is it open?", followers=1_000_000))
    with session_factory() as s:
        ana = s.scalar(select(Contact.id).where(Contact.handle == "@ana"))
        failed = s.get(Message, mid)
        assert (failed.status, failed.contact_id, failed.case_id) == ("failed", ana, None)
    upkeep_job(session_factory)
    kept = advocacy_counts(session_factory, JANUARY)
    assert_kept_equals_rebuilt(session_factory)
    assert kept == advocacy_counts(session_factory, JANUARY) == (1, 0, [ana], [])


def test_linking_two_contacts_moves_the_cases_and_the_reach_of_one_into_the_other(session_factory, pipeline,
                                                                                 monkeypatch):
    # Linking moves a contact's cases and followers into another with no case event (`contact.linked` only):
    # the upkeep recomputes the kept contact's cases, so the kept sums and keys are the rebuild's.
    no_overlap(monkeypatch)
    pipeline(message(channel="xcom", author="ana", text="thanks, love it", followers=0),
             message(channel="mast", author="ana-m", text="thanks, love it", followers=1_000_000))
    upkeep_job(session_factory)
    with unit_of_work(session_factory) as s:
        ana, other = (s.scalar(select(Contact.id).where(Contact.handle == h)) for h in ("@ana", "@ana-m"))
        link_contacts(s, ana, other)
    upkeep_job(session_factory)
    kept = advocacy_counts(session_factory, JANUARY)
    assert_kept_equals_rebuilt(session_factory)
    assert kept == advocacy_counts(session_factory, JANUARY) == (1, 0, [ana], [])


def test_an_erased_customer_s_standing_follows_their_reach_gone(session_factory, pipeline, monkeypatch):
    # An erasure sets the person's followers to 0 with no case event; the `contact.erased` event it records
    # lets the upkeep put their keys in step, as a rebuild would (before, their old reach kept them an advocate).
    no_overlap(monkeypatch)
    pipeline(message(channel="xcom", author="ana", text="thanks, love it", followers=1_000_000))
    upkeep_job(session_factory)
    with session_factory() as s:
        ana = s.scalar(select(Contact.id).where(Contact.handle == "@ana"))
    assert advocacy_counts(session_factory, JANUARY) == (1, 0, [ana], [])
    officer = Principal(user_id=None, email="token:privacy", name="privacy", role="admin")
    with unit_of_work(session_factory) as s:
        erasure.erase(s, officer, ana, reference="DSR-7")
    upkeep_job(session_factory)
    kept = advocacy_counts(session_factory, JANUARY)
    assert_kept_equals_rebuilt(session_factory)
    assert kept == advocacy_counts(session_factory, JANUARY) == (0, 0, [], [])


def reference_ranking(session_factory, scope) -> tuple:
    """The counts and who is on each side, by brute force: every customer's sums of their cases opened by each
    end (the statement's rounding), not their kept rows by day; with a team filter, of the customers with a
    case of the team's in the period only."""
    f = CaseFacts
    prev = scope.previous()
    nets = []
    with session_factory() as s:
        counted = set(s.scalars(select(f.contact_id).where(*metrics.conditions(scope), f.contact_id.is_not(None))))
        reach = 1 + func.log10(1 + func.coalesce(Contact.followers, 0)) / 4
        for day in (scope.end, prev.end, prev.previous().end):
            k = 0.5 ** ((moment(scope, day) - SIGNAL_EPOCH).total_seconds() / HALF_LIFE_S)
            q = select(f.contact_id, func.round(func.sum(f.adv_w) * reach * (k * 10000)) / 10000.0
                       - func.round(func.sum(f.det_w) * reach * (k * 10000)) / 10000.0) \
                .join(Contact, Contact.id == f.contact_id).where(f.opened_day <= day.isoformat()) \
                .group_by(f.contact_id, Contact.followers)
            nets.append({cid: float(n) for cid, n in s.execute(q) if not scope.filtered or cid in counted})

    def side(i, cid):
        n = nets[i].get(cid, 0.0)
        return "advocate" if n >= 1 else "detractor" if n <= -1 else None

    people = set().union(*nets)
    sides = [{cid: side(i, cid) for cid in people} for i in range(3)]
    count = [sum(1 for v in sides[i].values() if v == want) for i in (0, 1) for want in ("advocate", "detractor")]
    turned = [sum(1 for cid in people if (sides[i][cid], sides[i + 1][cid]) == pair) for i in (0, 1)
              for pair in (("advocate", "detractor"), ("detractor", "advocate"))]
    now = [sorted(c for c in people if sides[0][c] == want) for want in ("advocate", "detractor")]
    moved = sorted(c for c in people if sides[0][c] and sides[1][c] and sides[0][c] != sides[1][c])
    return (count[0], count[1], turned[0], turned[1], count[2], count[3], turned[2], turned[3]), *now, moved


def kept_ranking(session_factory, scope) -> tuple:
    with session_factory() as s:
        now, before = rankings(s, scope)
    return ((now["advocate_count"], now["detractor_count"], now["turned_advocate"], now["turned_detractor"],
             before["advocate_count"], before["detractor_count"], before["turned_advocate"],
             before["turned_detractor"]),
            sorted(r["contact_id"] for r in now["advocates"]), sorted(r["contact_id"] for r in now["detractors"]),
            sorted(r["contact_id"] for r in now["moved"]))


SAYS = ("thanks, love it", "thanks, love it, highly recommend them", "terrible, refund", "my order never arrived",
        "is it open?")
said = st.tuples(st.integers(0, 5), st.integers(0, 80), st.sampled_from(SAYS), st.sampled_from((0, 50, 100_000)))


@hsettings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(steps=st.lists(said, min_size=1, max_size=30), resolve=st.lists(st.integers(0, 30), max_size=6))
def test_the_unfiltered_ranking_read_by_day_is_every_customer_s_standing(session_factory, pipeline, org, steps,
                                                                         resolve):
    # Customers writing over 80 days (a message joins their open case on the same topic: an older case gains
    # signals), some cases resolved between (the next message opens a new case), reach changing: the counts,
    # the sides and who changed side, read from the rows by day, are those of every customer's sums; so are the
    # period's customers and returning customers.
    for n, (who, days_ago, text, followers) in enumerate(steps):
        # Two channels (a person on each is two customers), so that a channel's report counts some of them.
        pipeline(message(channel="mast" if who == 5 else "xcom", author=f"person{who}", text=text,
                         followers=followers, minutes=-days_ago * 1440 - n))
        if n in resolve:
            with unit_of_work(session_factory) as s:
                for case_id in s.scalars(select(Case.id).where(Case.status == "open")):
                    set_status(s, org["lee"], case_id, "resolved")
        if n % 7 == 6:
            upkeep_job(session_factory)
    upkeep_job(session_factory)
    for end, length in ((date(2026, 11, 20), 7), (date(2026, 11, 1), 28), (date(2026, 10, 10), 7),
                        (date(2026, 12, 6), 28), (date(2026, 9, 25), 3)):
        scope = metrics.Scope(start=end - timedelta(days=length - 1), end=end,
                              now=datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
        assert kept_ranking(session_factory, scope) == reference_ranking(session_factory, scope), end
        # The period's returning customers, counted from the same rows by day, are those of the case facts.
        with session_factory() as s:
            kept, cases = metrics.reputation(s, scope), metrics._reputation_by_case(s, scope)
        assert [kept[k] for k in ("customers", "returning_customers")] == \
            [cases[k] for k in ("customers", "returning_customers")], end
        # A team's report: its customers, and those with a case before the period in any team (on PostgreSQL
        # from the rows by day too, metrics._customers); its advocates and detractors, read from those
        # customers' rows by day (ranking._nets), are those of their sums.
        # Read from the rows' matching keys (reports/matches.py): every count, side and mover of those customers
        # only, now and at the previous period's end.
        with session_factory() as s:
            teams = list(s.scalars(select(CaseFacts.lead_team_id).distinct()))
            channels = list(s.scalars(select(CaseFacts.channel_id).distinct()))
        for channel_id in channels:
            by_channel = replace(scope, channel_id=channel_id)
            assert kept_ranking(session_factory, by_channel) == reference_ranking(session_factory, by_channel), end
            for team_id in teams:  # a manager's report of one channel
                both = replace(by_channel, team_ids=(team_id,))
                assert kept_ranking(session_factory, both) == reference_ranking(session_factory, both), end
        if len(teams) > 1:  # a manager of two teams: either one's case counts
            both = replace(scope, team_ids=tuple(teams[:2]))
            assert kept_ranking(session_factory, both) == reference_ranking(session_factory, both), end
        for team_id in teams:
            team = replace(scope, team_ids=(team_id,))
            reference = reference_ranking(session_factory, team)
            assert kept_ranking(session_factory, team) == reference, (end, team_id)
            # The counts a team's objective reads from the advocate side alone (reports/advocate_side.py).
            with session_factory() as s:
                side = advocate_side.counts(s, team)
            assert (side["advocate_count"], side["turned_advocate"], side["turned_detractor"]) == \
                (reference[0][0], reference[0][2], reference[0][3]), (end, team_id)
        with session_factory() as s:
            for team_id in teams:
                team = replace(scope, team_ids=(team_id,))
                kept, cases = metrics.reputation(s, team), metrics._reputation_by_case(s, team)
                assert [kept[k] for k in ("customers", "returning_customers")] == \
                    [cases[k] for k in ("customers", "returning_customers")], (end, team_id)
    assert_kept_equals_rebuilt(session_factory)


def by_case_figures(session_factory, scope) -> tuple[dict, dict]:
    """Every figure from the per-day tables, and the same figures computed over the case facts."""
    with session_factory() as s:
        kept = {"service": metrics.service(s, scope), "daily": metrics.daily(s, scope),
                "volume": metrics.volumes(s, scope), "reputation": metrics.reputation(s, scope),
                "leads": metrics.leads(s, scope), "collaboration": metrics.collaboration(s, scope)}
        kept["return"] = metrics.manager_return(s, scope, kept["collaboration"])
        cases = {"service": metrics._service_by_case(s, scope), "daily": metrics._daily_by_case(s, scope),
                 "volume": {by: metrics._volume_by_case(s, scope, by) for by in metrics.BREAKDOWNS},
                 "reputation": metrics._reputation_by_case(s, scope), "leads": metrics._leads_by_case(s, scope),
                 "collaboration": metrics._collaboration_by_case(s, scope)}
        cases["return"] = metrics._manager_return_by_case(s, scope, cases["collaboration"])
    for rows in cases["volume"].values():  # ties in any order
        rows.sort(key=lambda r: (-r["cases"], str(r["key"])))
    return kept, cases


def organization_histogram(hist: list[tuple]) -> list[tuple]:
    """report_daily_hist's service-time rows (day, team, channel, metric, bucket, n) summed over teams and
    channels: what report_day_hist holds."""
    sums: dict[tuple, int] = defaultdict(int)
    for day, _team, _channel, metric, b, n in hist:
        if metric in SERVICE_TIMES:
            sums[(day, metric, b)] += n
    return sorted((*key, n) for key, n in sums.items())


def monthly_histogram(hist: list[tuple]) -> list[tuple]:
    """report_daily_hist's rows (day, team, channel, metric, bucket, n) summed per calendar month: what
    report_month_hist holds."""
    sums: dict[tuple, int] = defaultdict(int)
    for day, team, channel, metric, b, n in hist:
        sums[(day[:7], team, channel, metric, b)] += n
    return sorted((*key, n) for key, n in sums.items())


def apply(session_factory, pipeline, org, step) -> None:
    kind, n, value = step
    if kind == "message":
        pipeline(message(channel="xcom", text=value, author=f"customer{n}"))
        return
    if kind == "bare":
        mids = pipeline(message(channel="xcom", text=value, author=f"customer{n}"))
        with unit_of_work(session_factory) as s:
            for e in s.scalars(select(Event).where(Event.message_id.in_(mids), Event.kind == "message.processed")):
                e.data = {k: v for k, v in e.data.items() if k != "triage"}
        return
    if kind == "late":
        with session_factory() as s:
            newest = s.scalar(select(func.max(Message.created_at)))
        extra = {"created_at": (newest - timedelta(seconds=6 * (n // 4))).isoformat()} if newest else {}
        pipeline(message(channel="xcom", text=value, author=f"customer{n % 4}", **extra))
        return
    if kind == "upkeep":
        upkeep_job(session_factory)
        return
    with unit_of_work(session_factory) as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        if not ids:
            return
        case_id = ids[n % len(ids)]
        try:
            if kind == "status":
                set_status(s, org["lee"], case_id, value)
            elif kind == "team":
                add_team(s, org["lee"], case_id, value)
            elif kind == "handoff":
                hand_off(s, org["lee"], case_id, value, "yours")
            else:
                add_note(s, org[value], case_id, f"note by {value}")
        except Exception as exc:  # a refusal (already there, cannot see it) is part of the sequence
            from onevoice.errors import DomainError

            assert isinstance(exc, DomainError), exc
            s.rollback()


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=25), overlap=st.booleans())
def test_incremental_equals_rebuilt(session_factory, pipeline, org, monkeypatch, steps, overlap):
    # Without PostgreSQL's window (upkeep.OVERLAP, which recomputes every case of these few seconds), its
    # upkeep folds as SQLite's does: late messages included.
    monkeypatch.setitem(OVERLAP, "postgresql", WINDOW if overlap else timedelta(0))
    for step in steps:
        apply(session_factory, pipeline, org, step)
    upkeep_job(session_factory)
    incremental = assert_kept_equals_rebuilt(session_factory)
    assert incremental[2]["daily"] or not incremental[0]
    # The organization's histogram by day is the rows by day x team x channel summed (kept and rebuilt alike).
    assert sorted(incremental[2]["day_hist"]) == organization_histogram(incremental[2]["hist"])
    assert sorted(incremental[2]["month_hist"]) == monthly_histogram(incremental[2]["hist"])
    # The figures from the per-day tables are the figures over the cases (medians and p90 exact): periods of
    # whole months only, whole months and days at an end (reports/months.py), days only.
    today = utcnow().date()
    with session_factory() as s:
        support = s.scalar(select(Team.id).where(Team.key == "support"))
        channel = s.scalar(select(Channel.id).where(Channel.key == "xcom"))
    for start, end in ((date(2026, 11, 1), date(2026, 12, 31)), (today.replace(day=1) - timedelta(days=40), today),
                       (today - timedelta(days=3), today + timedelta(days=1))):
        for team_ids, channel_id in (((), None), ((support,), None), ((), channel), ((support,), channel)):
            scope = metrics.Scope(start=start, end=end, now=utcnow(), team_ids=team_ids, channel_id=channel_id)
            kept, cases = by_case_figures(session_factory, scope)
            assert kept == cases, (start, end, team_ids, channel_id)
    with session_factory() as s:
        assert len(incremental[0]) == len(list(s.scalars(select(Case.id))))


# Two customers writing, in and out of order, with passes between: most late messages find their case folded.
in_order = st.one_of(st.tuples(st.just("message"), st.integers(0, 1), st.sampled_from(TEXTS)),
                     st.tuples(st.just("late"), st.sampled_from((0, 1, 4, 5, 12, 13, 40, 41)), st.sampled_from(TEXTS)),
                     st.tuples(st.just("upkeep"), st.just(0), st.just("")))


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(steps=st.lists(in_order, min_size=3, max_size=25))
def test_late_messages_are_folded_as_rebuilt(session_factory, pipeline, org, monkeypatch, steps):
    # A message older than its case's stored last one (or first one) is folded in its place, not recomputed:
    # the kept facts and aggregates are the rebuild's (on PostgreSQL without its window, which would recompute).
    monkeypatch.setitem(OVERLAP, "postgresql", timedelta(0))
    for step in steps:
        apply(session_factory, pipeline, org, step)
    upkeep_job(session_factory)
    assert_kept_equals_rebuilt(session_factory)


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
def test_a_run_cut_into_steps_anywhere_keeps_the_rebuilds_facts(session_factory, pipeline, org, monkeypatch, batch):
    # A step ends at its BATCH_EVENTS-th event, counting the pipeline's message events that are read with
    # their messages (repository.processed_messages), not as rows: a step may end between a message's
    # processing and its case's opening, or inside a message's events; every message is folded once.
    from onevoice.reports import upkeep

    upkeep_job(session_factory)
    monkeypatch.setattr(upkeep, "BATCH_EVENTS", batch)
    no_overlap(monkeypatch)
    pipeline(message(channel="xcom", text="my order never arrived", author="s1"),
             message(channel="xcom", text="thanks, love it", author="s2"),
             message(channel="xcom", text="terrible, refund", author="s1"))
    with unit_of_work(session_factory) as s:
        add_note(s, org["sam"], s.scalar(select(Case.id).order_by(Case.id)), "on it")
    pipeline(message(channel="xcom", text="what is the pricing?", author="s2"),
             message(channel="xcom", text="is it open?", author="s3"))
    with session_factory() as s:
        events = s.scalar(select(func.count()).select_from(Event).where(Event.id > repo_state(s)[0]))
    steps = []
    measured = upkeep.upkeep

    def counted(factory):
        steps.append(1)
        return measured(factory)
    monkeypatch.setattr(upkeep, "upkeep", counted)
    upkeep_job(session_factory)
    assert len(steps) >= -(-events // batch)
    with session_factory() as s:
        assert repo_state(s)[0] == s.scalar(select(func.max(Event.id)))
    assert_kept_equals_rebuilt(session_factory)


def test_a_team_joining_a_case_reads_only_what_members_did_before(session_factory, pipeline, org):
    # The events before the team joined are read for its members' actions alone (facts.team_rows counts
    # nothing else), not the pipeline's events of every earlier message of the case.
    from onevoice.reports.facts import CaseSource
    from onevoice.reports.repository import cases_by_id, history

    pipeline(message(channel="xcom", text="my order never arrived", author="h1"),
             message(channel="xcom", text="terrible, refund", author="h1"))
    with unit_of_work(session_factory) as s:
        case_id = s.scalar(select(Case.id))
        add_note(s, org["lee"], case_id, "before PR joins")
    with session_factory() as s:
        top = s.scalar(select(func.max(Event.id)))
        out: dict[int, CaseSource] = cases_by_id(s, [case_id])
        history(s, out, top, context(s).user_teams)
        assert [(e.kind, e.actor) for e in out[case_id].history] == [("note", org["lee"].email)]
        assert s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id)) > 1


@pytest.mark.parametrize(("every", "expected"), [(None, 10.0), (30.0, 30.0), (0.0, None)])
def test_a_node_keeps_the_facts_as_often_as_it_is_set_to_or_not_at_all(settings, every, expected):
    from onevoice.cli.serving import _scheduler
    from onevoice.runtime import build_runtime

    runtime = build_runtime(settings if every is None else settings.model_copy(
        update={"reports_upkeep_seconds": every}))
    try:
        jobs = {j.name: j.every for j in _scheduler(runtime, poll=False).jobs}
    finally:
        runtime.dispose()
    assert jobs.get("reports-upkeep") == expected
    assert "alerts" in jobs  # the other jobs are there either way


def test_the_server_counts_its_upkeep_s_cpu_and_cases(session_factory, pipeline):
    # The upkeep's share of the server's CPU is read from these counters (/metrics, bench_webhooks), not
    # estimated from a pass run elsewhere: each run adds its thread's CPU and its cases, folded or recomputed.
    from prometheus_client import REGISTRY

    from onevoice.cli.serving import _upkeep_counted

    def counters() -> tuple[float, float]:
        cases = sum(REGISTRY.get_sample_value("onevoice_reports_upkeep_cases_total", {"how": how}) or 0.0
                    for how in ("folded", "recomputed"))
        return REGISTRY.get_sample_value("onevoice_reports_upkeep_cpu_seconds_total") or 0.0, cases

    cpu, cases = counters()
    pipeline(message(channel="xcom", text="my order never arrived", author="c1"),
             message(channel="xcom", text="thanks, love it", author="c2"))
    _upkeep_counted(session_factory)
    assert counters()[0] > cpu and counters()[1] == cases + 2


def test_a_negative_upkeep_interval_is_refused(settings):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="reports_upkeep_seconds"):
        Settings.model_validate({**settings.model_dump(), "reports_upkeep_seconds": -1})


def _watermark(session_factory) -> tuple:
    from onevoice.reports.repository import state

    with session_factory() as s:
        return state(s)


def test_while_the_pipeline_is_behind_the_upkeep_waits_but_never_longer_than_its_bound(session_factory, pipeline,
                                                                                        monkeypatch):
    from onevoice.reports.models import ReportState

    no_overlap(monkeypatch)  # each run's cases are the new ones only, on both databases
    pipeline(message(channel="xcom", text="my order never arrived", author="w1"))
    busy, minute = (lambda: True), timedelta(seconds=60)
    # The first pass ever does not wait (the facts would otherwise start a minute late).
    first = upkeep_job(session_factory, busy=busy, wait_at_most=minute)
    assert not first.waited and first.cases == 1
    pipeline(message(channel="xcom", text="thanks, love it", author="w2"))
    kept = _watermark(session_factory)
    # Behind, and the last pass is recent: nothing is read or written, the facts wait.
    assert upkeep_job(session_factory, busy=busy, wait_at_most=minute).waited
    assert _watermark(session_factory) == kept
    # Caught up: the next run folds in what the surge brought.
    done = upkeep_job(session_factory, busy=lambda: False, wait_at_most=minute)
    assert not done.waited and done.cases == 1 and _watermark(session_factory)[0] > kept[0]
    # Still behind a minute after the last pass: the run no longer waits.
    pipeline(message(channel="xcom", text="is it open?", author="w3"))
    with unit_of_work(session_factory) as s:
        s.execute(ReportState.__table__.update().values(updated_at=utcnow() - timedelta(seconds=61)))
    before = _watermark(session_factory)[0]
    late = upkeep_job(session_factory, busy=busy, wait_at_most=minute)
    assert not late.waited and late.cases and _watermark(session_factory)[0] > before
    # Without a bound (0) or without a signal the upkeep never waits.
    pipeline(message(channel="xcom", text="what is the pricing?", author="w4"))
    assert not upkeep_job(session_factory, busy=busy).waited
    assert_kept_equals_rebuilt(session_factory)


def test_the_node_s_upkeep_waits_while_messages_pile_up(settings, org, monkeypatch):
    # The job registered at composition asks the pipeline's backlog (accepted, not yet processed); `org`
    # seeds the demo organization, whose channels the messages come in on.
    from onevoice.cli.serving import _scheduler
    from onevoice.pipeline import backlog
    from onevoice.pipeline.intake import accept_batch
    from onevoice.runtime import build_runtime

    monkeypatch.setattr(backlog, "BEHIND_AT", 3)
    runtime = build_runtime(settings)
    try:
        job = next(j for j in _scheduler(runtime, poll=False).jobs if j.name == "reports-upkeep")
        assert not job.run().waited  # the first pass
        with unit_of_work(runtime.session_factory) as s:
            accept_batch(s, [message(channel="xcom", text=f"surge {i}", author=f"s{i}") for i in range(2)])
        assert not job.run().waited  # two waiting: not behind
        with unit_of_work(runtime.session_factory) as s:
            accept_batch(s, [message(channel="xcom", text="surge 3", author="s3")])
        assert job.run().waited
    finally:
        runtime.dispose()

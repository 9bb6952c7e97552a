"""Who may read which report, and the two views (manager, executive) with the period before for comparison.

Admins, coordinators and executives read every team's figures; managers their own teams'. Figures are
counts and times, never case content: the cases behind a figure are listed with their subject only for
those who may open the case anyway (cases.access), so an executive sees every number and no text it is
not otherwise allowed to see.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from onevoice.auth.models import User
from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_ids
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.channels.service import channel_names_by_id
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.reports import advocate_side, metrics, objectives
from onevoice.reports import repository as repo
from onevoice.reports.aggregate import SERVICE_TIMES
from onevoice.reports.built import once, values
from onevoice.reports.metrics import Scope
from onevoice.reports.models import CaseFacts, Objective, TeamFacts
from onevoice.reports.ranking import advocacy_ranking, rankings
from onevoice.reports.ranking import read as ranking_read
from onevoice.reports.snapshot import concurrently
from onevoice.teams import service as team_service
from onevoice.teams.models import Team
from onevoice.triage.vocabulary import names_by_key

ALL_TEAMS = frozenset({"admin", "coordinator", "executive"})
MAX_DAYS = 400
EARLIEST = date(2000, 1, 1)


def require_reader(who: Principal) -> None:
    if who.role not in ALL_TEAMS and who.role != "manager":
        raise Forbidden("reports are for managers, executives, coordinators and admins")


def make_scope(session: Session, who: Principal, start: date | None = None, end: date | None = None,
               team: str | None = None, channel: str | None = None, product: str | None = None,
               tag: str | None = None, hourly_rate: float | None = None) -> Scope:
    """The period and filters asked for, held to what this person may report on."""
    require_reader(who)
    now = utcnow()
    end = end or now.date()
    start = start or end - timedelta(days=27)
    if start > end:
        raise InvalidInput("the period starts after it ends")
    # Beyond these the standing's decay (2^-half-lives since 2025) overflows a float, or a day after the end is
    # no date at all (end=0131-11-07 answered 500); no organization has social media messages there.
    if start < EARLIEST or end > now.date() + timedelta(days=366):
        raise InvalidInput(f"a period lies between {EARLIEST.isoformat()} and a year from today")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"a period is at most {MAX_DAYS} days")
    teams = dict(session.connection().execute(once(("team_ids",), lambda: select(Team.key, Team.id))).all())
    if team and team not in teams:
        raise InvalidInput(f"unknown team {team!r}")
    channel_id = None
    if channel:
        channel_id = session.scalar(select(Channel.id).where(Channel.key == channel))
        if channel_id is None:
            raise InvalidInput(f"unknown channel {channel!r}")
    if hourly_rate is not None and not 0 <= hourly_rate <= 100_000:
        raise InvalidInput("the hourly rate is between 0 and 100000")
    if who.role in ALL_TEAMS:
        team_ids: tuple[int, ...] = (teams[team],) if team else ()
    else:
        own = sorted(who.team_ids)
        if team and teams[team] not in who.team_ids:
            raise Forbidden(f"you report on your own teams, not {team!r}")
        team_ids = (teams[team],) if team else tuple(own) or (-1,)
    return Scope(start=start, end=end, now=now, team_ids=team_ids, channel_id=channel_id,
                 product=(product or "").strip()[:200] or None, tag=(tag or "").strip()[:100] or None,
                 hourly_rate=50.0 if hourly_rate is None else hourly_rate, limited=who.role not in ALL_TEAMS)


def team_names(session: Session) -> dict[int, dict]:
    return {i: {"id": i, "key": k, "name": n} for i, k, n in session.connection().execute(
        once(("team_names",), lambda: select(Team.id, Team.key, Team.name)))}


def headline(session: Session, scope: Scope, ranking: dict | None = None) -> dict:
    """The figures objectives and comparisons are made on, flat."""
    if ranking is None:
        ranking = advocacy_ranking(session, scope, limit=0)
    return with_advocacy(_plain(session, scope), ranking)


def _plain(session: Session, scope: Scope) -> dict:
    """The headline's figures but the advocacy counts."""
    return {**family(session, scope, "service"), **family(session, scope, "reputation"),
            **family(session, scope, "leads")}


def with_advocacy(figures: dict, ranking: dict) -> dict:
    return {**figures, **{f"advocacy.{k}": ranking[k]
                          for k in ("advocate_count", "detractor_count", "turned_advocate", "turned_detractor")}}


def compare(current: dict, previous: dict) -> dict:
    """Change against the previous period for every numeric figure."""
    out = {}
    for k, v in current.items():
        p = previous.get(k)
        if isinstance(v, int | float) and isinstance(p, int | float) and not isinstance(v, bool):
            out[k] = {"now": v, "before": p, "change": round(v - p, 4)}
        else:
            out[k] = {"now": v, "before": p, "change": None}
    return out


def _tune(session: Session) -> None:
    """PostgreSQL, for this transaction only: a filtered advocacy statement groups and hashes the customers
    of the period's matching cases (the unfiltered one did so for 52,000 at full size before it read the rows by
    day), which spilled to disk at the default 4 MB of working memory; JIT
    compilation cost 45 ms a statement for statements that run in tens of milliseconds; and a report already
    reads its parts on connections of their own at once (snapshot.concurrently), so parallel workers on top
    (the previous period's detractors counted by a parallel scan in three processes, the coordinator's 180 days
    at full size) only competed with the other parts for the cores: without them the coordinator's report over
    180 days took p50 129 -> 98 ms on the 2-core host (bench/README.md, branch `lr2`)."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '32MB'"))
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def report(session: Session, who: Principal, scope: Scope) -> dict:
    """Everything both views show (the executive view leads with reputation, the manager view with queues).
    On PostgreSQL the advocacy ranking and the other figures (in three parts of similar cost) are read at the
    same time, on connections that share one snapshot (reports/snapshot.py); elsewhere one after the other in
    the session."""
    reads = [lambda s: ranking_read(s, scope)]
    parts = [lambda s, part=part: part(s, scope) for part in _PARTS]
    (ranking, previous_ranking), rest = concurrently(
        session, [*reads, *parts], prepare=_tune,
        then=lambda s, done: (rankings(s, scope, reads=done[:len(reads)]),
                              {k: v for d in done[len(reads):] for k, v in d.items()}))
    now_figures = with_advocacy(rest["now"], ranking)
    return {
        "period": {"start": scope.start, "end": scope.end, "days": scope.days,
                   "previous_start": scope.previous().start, "previous_end": scope.previous().end},
        "figures": compare(now_figures, with_advocacy(rest["before"], previous_ranking)),
        **{k: rest[k] for k in ("backlog", "daily", "volume", "collaboration", "return", "incidents")},
        "advocacy": ranking,
        "load": rest["load"],
        "objectives": judged(rest["objectives"], now_figures),
        "hourly_rate": scope.hourly_rate,
        # What the figures include: everything up to the upkeep's last pass (a surge delays it: upkeep_job).
        "as_of": repo.state(session)[1],
    }


def _now_part(session: Session, scope: Scope) -> dict:
    return {"now": _plain(session, scope), "backlog": metrics.backlog(session, scope),
            "daily": metrics.daily(session, scope),
            "volume": labelled(session, metrics.volumes(session, scope, VOLUMES), team_names(session))}


def _before_part(session: Session, scope: Scope) -> dict:
    names = team_names(session)
    collaboration = _collaboration(session, scope, names)
    return {"before": _plain(session, scope.previous()), "collaboration": collaboration,
            "return": _return(session, scope, names, collaboration), "incidents": metrics.incidents(session, scope),
            "load": load_per_person(session, scope)}


def _objectives_part(session: Session, scope: Scope) -> dict:
    return {"objectives": objective_figures(session, scope)}


# The report's figures beside the advocacy ranking, in parts of similar cost at full size (the coordinator's
# 28 days on PostgreSQL: each ~60-130 ms; as one part, 240 ms after the ranking's 75).
_PARTS = (_objectives_part, _now_part, _before_part)


VOLUMES = ("channel", "kind", "intent", "language", "product", "team")
# The tables of the report a CSV export writes (docs/metrics.md): "volume_<dim>" for each of VOLUMES.
TABLES = ("daily", "collaboration", "return", "advocates", "detractors", "moved", "incidents", "objectives",
          *(f"volume_{dim}" for dim in VOLUMES), "figures", "load")


def table(session: Session, who: Principal, scope: Scope, name: str) -> list[dict]:
    """One table of `report`, the same rows, computing only what that table needs (a CSV export of the
    daily figures read the advocacy ranking and every other figure of both periods to write 28 rows)."""
    if name not in TABLES:
        raise InvalidInput(f"unknown table {name!r}: use one of {', '.join(TABLES)}")
    _tune(session)
    if name.startswith("volume_"):
        dim = name.removeprefix("volume_")
        return labelled(session, metrics.volumes(session, scope, (dim,)), team_names(session))[dim]
    if name in ("advocates", "detractors", "moved"):
        return advocacy_ranking(session, scope)[name]
    if name in ("figures", "objectives"):
        ranking, previous_ranking = rankings(session, scope, limit=0)
        now_figures = headline(session, scope, ranking)
        if name == "objectives":
            return progress(session, scope, now_figures)
        before = headline(session, scope.previous(), previous_ranking)
        return [{"figure": k, **v} for k, v in compare(now_figures, before).items()]
    if name in ("collaboration", "return"):
        names = team_names(session)
        collaboration = _collaboration(session, scope, names)
        return collaboration if name == "collaboration" else _return(session, scope, names, collaboration)
    return {"daily": metrics.daily, "incidents": metrics.incidents, "load": load_per_person}[name](session, scope)


def _collaboration(session: Session, scope: Scope, names: dict[int, dict]) -> list[dict]:
    return [{**r, "team": names.get(r["team_id"], {}).get("key")} for r in metrics.collaboration(session, scope)]


def _return(session: Session, scope: Scope, names: dict[int, dict], collaboration: list[dict]) -> list[dict]:
    return [{**r, "team": names.get(r["team_id"], {}).get("key")}
            for r in metrics.manager_return(session, scope, collaboration)]


def labelled(session: Session, volume: dict[str, list[dict]], teams: dict[int, dict]) -> dict[str, list[dict]]:
    """Channels and teams are keyed by id, products by key (what a drill-down filters on); people read names."""
    channels = channel_names_by_id(session)
    for row in volume.get("channel", []):
        row["label"] = channels.get(row["key"])
    for row in volume.get("team", []):
        row["label"] = teams.get(row["key"], {}).get("name")
    products = names_by_key(session, [r["key"] for r in volume.get("product", []) if r["key"] is not None])
    for row in volume.get("product", []):  # the vocabulary's name; a key it no longer has reads as itself
        row["label"] = products.get(row["key"])
    return volume


def load_per_person(session: Session, scope: Scope) -> list[dict]:
    """Open cases per assignee in the teams reported on (queue health now). Counted per person by the
    assignee index (`ix_cases_assignee`: assignee, status): joined from the cases, SQLite read every open
    case of the organization through the status index and looked each up (70,000 at full size, 50 ms CPU).
    SQLite is told that a person's cases are few (`likelihood`): where no case is assigned its statistics
    make the index look useless, and with a team filter it scanned every case once per person (700 ms CPU)."""
    dialect = session.bind.dialect.name
    stmt = once(("load", dialect, bool(scope.team_ids)), lambda: _load(dialect, bool(scope.team_ids)))
    rows = session.connection().execute(stmt, {"teams": list(scope.team_ids)})
    return [{"person": name, "open_cases": int(c)} for name, c in rows]


def _load(dialect: str, teams: bool):
    """load_per_person's statement (built.once), the teams bound as :teams."""
    assigned = Case.assignee_id == User.id
    if dialect == "sqlite":
        assigned = func.likelihood(assigned, literal_column("0.001"))
    cond = [assigned, Case.status.in_(metrics.OPEN)]
    if teams:
        cond.append(Case.lead_team_id.in_(values("teams")))
    count = select(func.count()).where(*cond).correlate(User).scalar_subquery()
    per = select(User.name, count.label("n")).subquery()
    total = func.sum(per.c.n)
    return (select(per.c.name, total).where(per.c.n > 0).group_by(per.c.name)
            .order_by(total.desc(), per.c.name).limit(30))


# --- the cases behind a figure ----------------------------------------------------------------------------
DRILLS = {
    "cases": lambda: [], "resolved": lambda: [CaseFacts.resolved == 1],
    "reopened": lambda: [CaseFacts.reopens > 0], "negative": lambda: [CaseFacts.negative > 0],
    "positive": lambda: [CaseFacts.positive > 0], "opened_negative": lambda: [CaseFacts.opened_negative == 1],
    "recovered": lambda: [CaseFacts.recovered == 1], "not_recovered": lambda: [CaseFacts.recovered == 0],
    "first_response_met": lambda: [CaseFacts.first_response_met == 1],
    "leads": lambda: [CaseFacts.lead == 1], "leads_won": lambda: [CaseFacts.lead_outcome == "won"],
    "multi_team": lambda: [CaseFacts.acted_team_count >= 2], "moved_private": lambda: [CaseFacts.resolved_public == 0],
    "resolved_public": lambda: [CaseFacts.resolved_public == 1],
}


def drill_conditions(metric: str, scope: Scope) -> list:
    # The cases an SLA figure counts as missed: missed, or still unanswered (unresolved) past their due time
    # (metrics.service's fr_missed / res_missed).
    if metric == "first_response_missed":
        return [or_(CaseFacts.first_response_met == 0, and_(CaseFacts.first_response_met.is_(None),
                                                             CaseFacts.first_response_due < scope.now))]
    if metric == "resolution_missed":
        return [or_(CaseFacts.resolution_met == 0, and_(CaseFacts.resolution_met.is_(None),
                                                         CaseFacts.resolution_due < scope.now))]
    if metric == "backlog":
        return [CaseFacts.status.in_(metrics.OPEN)]
    for prefix, column in (("intent:", CaseFacts.intent), ("kind:", CaseFacts.kind), ("language:", CaseFacts.language),
                           ("product:", CaseFacts.product), ("channel:", CaseFacts.channel_id),
                           ("day:", CaseFacts.opened_day), ("incident:", CaseFacts.incident_id)):
        if metric.startswith(prefix):
            value = metric[len(prefix):]
            if column in (CaseFacts.channel_id, CaseFacts.incident_id):
                if not value.isdigit():
                    raise InvalidInput(f"unknown figure {metric!r}")
                return [column == int(value)]
            return [column == value] if value != "none" else [column.is_(None)]
    if metric.startswith("team:") and metric[5:].isdigit():
        team_id = int(metric[5:])
        return [CaseFacts.case_id.in_(select(TeamFacts.case_id).where(TeamFacts.team_id == team_id))]
    if metric.startswith("contact:") and metric[8:].isdigit():
        return [CaseFacts.contact_id == int(metric[8:])]
    if metric not in DRILLS:
        raise InvalidInput(f"unknown figure {metric!r}")
    return DRILLS[metric]()


def cases_behind(session: Session, who: Principal, scope: Scope, metric: str, limit: int = 500) -> list[dict]:
    """The cases a figure counts, newest first. Subjects only for cases this person may open."""
    cond = drill_conditions(metric, scope)
    # An incident's cases are all of them, whatever the period, as the incidents table counts them
    # (metrics.incidents): a case opened before the incident may join it later. ([2:] drops the day bounds.)
    base = metrics.conditions(scope)[2:] if metric.startswith("incident:") else metrics.conditions(scope)
    where = base[2:] if metric == "backlog" else base  # the backlog is now, whatever the period
    # Newest first by day, then time (the same order: the day is the time's date), so that the day index is
    # read backwards and stops at the limit; the subjects are read after, for the rows shown only (joining
    # the cases first made PostgreSQL hash every case of the organization).
    f = CaseFacts
    facts = session.scalars(select(f).where(*where, *cond).order_by(f.opened_day.desc(), f.opened_at.desc(),
                                                                    f.case_id.desc()).limit(limit)).all()
    seen = visible_ids(session, who, [x.case_id for x in facts])
    subjects: dict[int, str] = {}
    shown = sorted(seen)
    for i in range(0, len(shown), 500):
        subjects.update(session.execute(select(Case.id, Case.subject).where(Case.id.in_(shown[i:i + 500]))).all())
    rows = [(x, subjects.get(x.case_id)) for x in facts]
    names = team_names(session)
    return [{"case_id": f.case_id, "opened_at": f.opened_at, "status": f.status, "priority": f.priority,
             "team": names.get(f.lead_team_id, {}).get("key"), "intent": f.intent, "kind": f.kind,
             "first_response_s": f.first_response_s, "first_response_bh_s": f.first_response_bh_s,
             "resolution_s": f.resolution_s, "reopens": f.reopens, "messages_in": f.messages_in,
             "visible": f.case_id in seen, "subject": subject if f.case_id in seen else None}
            for f, subject in rows]


# --- objectives -------------------------------------------------------------------------------------------
def list_objectives(session: Session, scope: Scope) -> list[Objective]:
    """A report of some teams shows those teams' objectives; the organization's are measured on the whole
    organization, so they appear where the whole is reported (a team's figure would misjudge them)."""
    q = select(Objective).order_by(Objective.team_id.is_(None).desc(), Objective.team_id, Objective.id)
    if scope.team_ids:
        q = q.where(Objective.team_id.in_(scope.team_ids))
    return list(session.scalars(q))


def progress(session: Session, scope: Scope, figures: dict) -> list[dict]:
    return judged(objective_figures(session, scope), figures)


def objective_figures(session: Session, scope: Scope) -> list[tuple[Objective, dict | None]]:
    """Each objective with the figures it is measured on: its team's, or None for the report's own."""
    listed = list_objectives(session, scope)
    own = [o for o in listed if o.team_id is not None and not scope.team_ids]
    # Only the objectives' own figures, once per team and family: the whole headline computed the advocacy
    # ranking and every other figure again for each team objective, and a whole family every median and
    # customer count where an objective reads one figure.
    wanted: dict[tuple[int, str], set[str]] = {}
    for o in own:
        wanted.setdefault((o.team_id, o.metric.split(".")[0]), set()).add(o.metric)
    per_team = {(team_id, group): family(session, Scope(**{**scope.__dict__, "team_ids": (team_id,)}), group, figures)
                for (team_id, group), figures in wanted.items()}
    return [(o, per_team[o.team_id, o.metric.split(".")[0]] if o in own else None) for o in listed]


def judged(objectives: list[tuple[Objective, dict | None]], figures: dict) -> list[dict]:
    out = []
    for o, own in objectives:
        value = (figures if own is None else own).get(o.metric)
        met = None if value is None else (value <= o.target if o.comparator == "<=" else value >= o.target)
        out.append({"id": o.id, "team_id": o.team_id, "metric": o.metric, "comparator": o.comparator,
                    "target": o.target, "value": value, "met": met})
    return out


PEOPLE = {"reputation.customers", "reputation.returning_customers", "reputation.incidents"}


def family(session: Session, scope: Scope, name: str, figures: set[str] | None = None) -> dict:
    """The figures of `headline` named `name`.* (service, reputation, leads or advocacy): an objective or an
    alert rule on one figure computes its family only (the advocacy ranking is the costliest). With `figures`
    (full names), at least those: the service times and the customer counts only where asked for."""
    if name == "advocacy":
        wanted = {f.removeprefix("advocacy.") for f in figures or ()}
        if scope.filtered and wanted and wanted <= advocate_side.COUNTS:
            # Read from the advocates' keys: the whole ranking of a filtered scope reads each of its customers
            # (a team's objective over 320 days: ~40,000 at full size, half of the coordinator's report).
            return {f"advocacy.{k}": v for k, v in advocate_side.counts(session, scope).items()}
        ranking = advocacy_ranking(session, scope, limit=0)
        return {f"advocacy.{k}": ranking[k]
                for k in ("advocate_count", "detractor_count", "turned_advocate", "turned_detractor")}
    if name == "reputation":
        rep = metrics.reputation(session, scope, people=figures is None or bool(figures & PEOPLE))
        return {f"reputation.{k}": len(v) if k == "incidents" else v for k, v in rep.items()}
    if name == "service":
        times = tuple(t for t in SERVICE_TIMES if figures is None
                      or {f"service.{t}_median_s", f"service.{t}_p90_s"} & figures)
        return {f"service.{k}": v for k, v in metrics.service(session, scope, times).items()}
    return {f"leads.{k}": v for k, v in metrics.leads(session, scope).items()} if name == "leads" else {}


def set_objective(session: Session, who: Principal, team: str | None, metric: str, comparator: str,
                  target: float) -> Objective:
    """A team's manager sets their team's targets; coordinators and admins any team's and the organization's."""
    if who.role not in ("admin", "coordinator", "manager"):
        raise Forbidden("managers set their own teams' objectives; coordinators and admins any")
    target = objectives.check(metric, target)
    if comparator not in ("<=", ">="):
        raise InvalidInput("the comparator is <= or >=")
    team_id = None
    if team:
        team_id = team_service.team_id(session, team)
        if team_id is None:
            raise InvalidInput(f"unknown team {team!r}")
    _may_set(who, team_id)
    # One target per team and figure: setting it again moves the target rather than adding a second row.
    objective = session.scalar(select(Objective).where(
        Objective.team_id.is_(None) if team_id is None else Objective.team_id == team_id, Objective.metric == metric))
    if objective is None:
        objective = Objective(team_id=team_id, metric=metric)
        session.add(objective)
    objective.comparator, objective.target, objective.created_by = comparator, target, who.label
    session.flush()
    return objective


def remove_objective(session: Session, who: Principal, objective_id: int) -> None:
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise NotFound("no such objective")
    _may_set(who, objective.team_id)
    session.delete(objective)
    session.flush()


def _may_set(who: Principal, team_id: int | None) -> None:
    if who.role in ("admin", "coordinator"):
        return
    if who.role != "manager" or team_id is None or team_id not in who.team_ids:
        raise Forbidden("managers set their own teams' objectives; coordinators and admins any")

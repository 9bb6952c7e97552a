"""The reports' answers as documents, to compare two versions of the code on the same data (a change meant
to make the reports faster must not change them).

At a fixed `now` (the data set's last day, 20:00 UTC), read sessions as the app's: the coordinator's and
Support's manager's whole report (the dict as JSON, floats in full, and ReportOut as /api/v1/reports gives it)
for 7/28/90 days ending on the last day and 28 days ending 40 days before; the coordinator's 28 days
filtered to support, marketing, sales, a channel and a product; every table as CSV at 28 days and the cases
behind four figures, for both; then through the app (in-process client) the /reports page (its session's
CSRF tokens blanked) and GET /api/v1/reports for both, each period, with no filter, either view, a team and
a channel. One file a document in OUTDIR.

    python -m bench.report_answers URL OUTDIR      # then: diff -r OUTDIR_before OUTDIR_after

Run it once with each version (e.g. PYTHONPATH=<before checkout>/src, or the other checkout's virtualenv).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import func, select

from bench.common import sign_in_for_reports
from onevoice.auth.models import User
from onevoice.auth.users import principal_for
from onevoice.cases.models import Case
from onevoice.channels.models import Channel
from onevoice.db import make_engine, make_sessionmaker
from onevoice.reports import exports, service, views
from onevoice.reports.models import CaseFacts
from onevoice.reports.schemas import ReportOut


def main() -> None:
    url, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    read = make_sessionmaker(engine, readonly=True)
    with read() as s:
        last = s.scalar(select(func.max(Case.created_at))).date()
        people = {e.split("@")[0]: principal_for(s, s.scalar(select(User).where(User.email == e)))
                  for e in ("lead@demo.onevoice.test", "manager@demo.onevoice.test")}
        channel = s.scalar(select(Channel.key).order_by(Channel.id).limit(1))
        product = s.scalar(select(CaseFacts.product).where(CaseFacts.product.is_not(None))
                           .group_by(CaseFacts.product).order_by(func.count().desc()).limit(1))
    now = datetime.combine(last, dtime(20), tzinfo=UTC)
    service.utcnow = views.utcnow = lambda: now  # the same moment for both versions (backlog ages, "behind")
    written = 0

    def dump(name: str, obj) -> None:
        nonlocal written
        text = obj if isinstance(obj, str) else json.dumps(obj, default=repr, indent=0)
        (out / f"{name}.txt").write_text(text)
        written += 1

    periods = {"7d": (last - timedelta(days=6), last), "28d": (last - timedelta(days=27), last),
               "90d": (last - timedelta(days=89), last),
               "28d-40before": (last - timedelta(days=67), last - timedelta(days=40))}
    a, b = periods["28d"]
    for name, who in people.items():
        for pname, (start, end) in periods.items():
            with read() as s:
                r = service.report(s, who, service.make_scope(s, who, start=start, end=end))
            dump(f"report-{name}-{pname}", r)
            dump(f"reportout-{name}-{pname}", ReportOut.model_validate(r).model_dump_json(by_alias=True))
        for t in service.TABLES:
            with read() as s:
                scope = service.make_scope(s, who, start=a, end=b)
                dump(f"table-{name}-{t}", exports.to_csv(service.table(s, who, scope, t)))
        for fig in ("resolved", "first_response_missed", "backlog", "intent:complaint"):
            with read() as s:
                scope = service.make_scope(s, who, start=a, end=b)
                dump(f"cases-{name}-{fig}", service.cases_behind(s, who, scope, fig))
    for fname, kw in (("support", {"team": "support"}), ("marketing", {"team": "marketing"}),
                      ("sales", {"team": "sales"}), ("channel", {"channel": channel}),
                      ("product", {"product": product})):
        with read() as s:
            dump(f"report-lead-28d-{fname}", service.report(s, people["lead"], service.make_scope(
                s, people["lead"], start=a, end=b, **kw)))
    _through_the_app(url, engine, people, periods, channel, dump)
    print(written, "documents in", out)
    engine.dispose()


def _through_the_app(url, engine, people, periods, channel, dump) -> None:
    from fastapi.testclient import TestClient

    from onevoice.app import create_app
    from onevoice.settings import Settings

    app = create_app(Settings(environment="development", database_url=url, embedded_worker=False, log_json=False),
                     start_worker=False)
    for name in people:
        email = f"{name}@demo.onevoice.test"
        with TestClient(app) as client:
            token = sign_in_for_reports(client, engine, email, "report-answers")
            for pname, (start, end) in periods.items():
                for extra in ("", "&view=manager", "&view=executive", "&team=support", f"&channel={channel}"):
                    q = f"start={start}&end={end}{extra}"
                    label = f"{name}-{pname}-{extra.strip('&').replace('=', '_')}"
                    page = client.get(f"/reports?{q}")
                    assert page.status_code == 200, page.text[:300]
                    dump(f"page-{label}", _no_csrf(page.text))
                    answer = client.get(f"/api/v1/reports?{q}", headers={"Authorization": f"Bearer {token}"})
                    assert answer.status_code == 200, answer.text[:300]
                    dump(f"api-{label}", answer.text)


def _no_csrf(text: str) -> str:
    """The page without its session's CSRF tokens (new for each login)."""
    for token in set(re.findall(r'data-csrf="([^"]+)"', text) + re.findall(r'name="csrf_token" value="([^"]+)"', text)):
        text = text.replace(token, "X")
    return text


if __name__ == "__main__":
    main()

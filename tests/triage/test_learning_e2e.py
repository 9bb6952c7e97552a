"""The learning loop end to end, as an organization lives it: responders correct a phrasing on the case page,
the automatic retraining judges a candidate on their held-out corrections, switches it on, and the running
pipeline routes that phrasing right without a restart. The models page shows how it was judged."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onevoice.app import create_app
from onevoice.messages.models import RoutingDecision
from onevoice.runtime import build_runtime
from onevoice.triage.autotrain import retrain_if_due
from onevoice.worker.runner import EmbeddedWorker
from tests.factories import message, seed_org
from tests.web.helpers import page_csrf, seed_people, sign_in

pytestmark = [pytest.mark.needs_public_data, pytest.mark.timeout(1200)]

# An in-house way of asking to buy: no public data or seed example knows "glimmerdeck tier".
CREWS = ["amber", "basalt", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "jasper", "kelp",
         "lumen", "marble", "nectar", "onyx", "pepper", "quartz", "raven", "saffron", "tundra", "umber",
         "violet", "willow", "xenon", "yarrow", "zephyr", "alder", "birch", "cedar", "dune", "elm", "flint",
         "granite", "hazel", "iris", "juniper", "kestrel", "linden", "maple", "nimbus"]


def phrase(crew: str) -> str:
    return f"sign the {crew} crew up to glimmerdeck"


def test_corrections_in_the_inbox_teach_routing_after_automatic_retraining(settings):
    settings = settings.model_copy(update={"retrain_after_corrections": 30})
    runtime = build_runtime(settings)
    token = seed_org(runtime.session_factory)
    seed_people(runtime.session_factory)
    worker = EmbeddedWorker(runtime.processor, runtime.session_factory, runtime.broker.publish)
    app = create_app(settings, runtime=runtime, start_worker=False)

    def lead_of(message_id: int) -> str | None:
        with runtime.session_factory() as s:
            return s.scalar(select(RoutingDecision.lead_team).where(RoutingDecision.message_id == message_id))

    with TestClient(app) as api, TestClient(app) as sam, TestClient(app) as lee:
        api.headers["Authorization"] = f"Bearer {token}"
        assert sign_in(sam, "sam@acme.test").status_code == 303 and sign_in(lee, "lee@acme.test").status_code == 303
        r = api.post("/api/v1/messages", json={"messages": [message(text=phrase(c), author=f"crew-{c}")
                                                             for c in CREWS]})
        ids = [a["id"] for a in r.json()["accepted"]]
        worker.drain()
        # Not read as buying: most land on support (the fallback), none with sales.
        leads = [lead_of(i) for i in ids]
        assert "sales" not in leads and leads.count("support") > len(leads) / 2, leads
        assert retrain_if_due(runtime.session_factory, settings) is None  # nothing to learn from yet

        csrf = {"sam": page_csrf(sam), "lee": page_csrf(lee)}
        for mid, lead in zip(ids, leads, strict=True):
            # On each case page, whoever can act on it says what it is: Sam on Support's, Lee (coordinator)
            # on the others.
            who, client = ("sam", sam) if lead == "support" else ("lee", lee)
            case_id = api.get(f"/api/v1/messages/{mid}").json()["case_id"]
            r = client.post(f"/cases/{case_id}/correct", headers={"X-CSRF-Token": csrf[who]},
                            data={"message_id": mid, "field": "intent", "value": "sales_lead"})
            assert r.status_code == 200, r.text

        report = retrain_if_due(runtime.session_factory, settings)
        assert report is not None and report.activated, report and report.reason
        assert report.reason.startswith("better on your held-out labels")
        judged = report.org["candidate"]["intent"]
        assert judged["n"] >= 8 and judged["macro_f1"] > report.org["active"]["intent"]["macro_f1"]

        runtime.processor.triager.check_every = 0  # workers look every 30 s; here at the next batch
        r = api.post("/api/v1/messages", json={"messages": [message(text=phrase("sequoia"), author="crew-new")]})
        [new_id] = [a["id"] for a in r.json()["accepted"]]
        worker.drain()
        assert lead_of(new_id) == "sales"
        assert api.get(f"/api/v1/messages/{new_id}").json()["triage"]["model_version"] == report.version

        page = lee.get("/triage/models")
        assert page.status_code == 200 and report.version in page.text
        assert "On your held-out labels" in page.text and "sales_lead" in page.text
        assert sam.get("/triage/models").status_code == 403  # coordinators and admins
    runtime.dispose()

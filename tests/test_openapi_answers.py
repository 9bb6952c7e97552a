"""The OpenAPI document describes what the API answers: every JSON route under /api/ has a response model, and
every documented /api/ operation lists the errors it can give (issue 12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from onevoice.app import create_app
from onevoice.governance.schemas import Acknowledged
from onevoice.settings import Settings

DESCRIBED = [("get", "/api/v1/contacts/{contact_id}", "ContactOut"),
             ("post", "/api/v1/contacts/{contact_id}/link", "ContactOut"),
             ("get", "/api/v1/cases/{case_id}", "CaseDetail"),
             ("get", "/api/v1/messages/{message_id}", "MessageDetail"),
             ("get", "/api/v1/posts/{post_id}", "PostOut"),
             ("get", "/api/v1/playbooks/{playbook_id}", "PlaybookOut")]

# Routes under /api/ that answer something other than one JSON document, and why.
NOT_JSON = {
    ("GET", "/api/v1/stream"): "server-sent events (text/event-stream)",
    ("GET", "/api/v1/audit/export"): "a download: JSON lines or CSV, streamed",
    ("GET", "/api/v1/reports/tables/{table}.csv"): "a CSV download",
    ("DELETE", "/api/v1/retention/rules/{rule_id}"): "204: no body",
    ("DELETE", "/api/v1/reports/objectives/{objective_id}"): "204: no body",
}


def _api_routes(app) -> list[tuple[str, str, object]]:
    out = []
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            if not ctx.path.startswith("/api/"):
                continue
            original = getattr(ctx, "original_route", ctx)
            for method in sorted(set(getattr(original, "methods", None) or []) - {"HEAD"}):
                out.append((method, ctx.path, getattr(ctx, "response_model", None)))
    return out


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("openapi")
    return create_app(Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/doc.db",
                               log_json=False))


@pytest.mark.parametrize("method,path,model", DESCRIBED)
def test_the_document_describes_the_answer_and_the_errors(app, method, path, model):
    doc = app.openapi()
    responses = doc["paths"][path][method]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    assert {"401", "403", "404", "422"} <= set(responses)
    assert doc["components"]["schemas"][model]["required"]


NOTIFICATIONS = [("get", "/api/v1/notifications/subscriptions", "SubscriptionsOut", None),
                 ("patch", "/api/v1/notifications/subscriptions", "SubscriptionsOut", "SubscriptionsIn"),
                 ("get", "/api/v1/notifications/thresholds", "Thresholds", None),
                 ("post", "/api/v1/notifications/thresholds", "ThresholdOut", "ThresholdIn")]


@pytest.mark.parametrize("method,path,model,body", NOTIFICATIONS)
def test_the_notifications_api_describes_its_answers_bodies_and_errors(app, method, path, model, body):
    doc = app.openapi()
    op = doc["paths"][path][method]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    assert {"401", "403"} <= set(op["responses"]) and op["tags"] == ["notifications"]
    if body:
        assert op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{body}"}
        assert "422" in op["responses"]
    threshold = doc["components"]["schemas"]["ThresholdIn"]["properties"]
    assert (threshold["threshold_percent"]["exclusiveMinimum"], threshold["threshold_percent"]["maximum"]) == (0, 100)
    assert threshold["metric"]["enum"] == ["first_response_sla", "resolution_sla"]


def test_every_json_route_under_api_has_a_response_model(app):
    routes = _api_routes(app)
    assert len(routes) > 60
    missing = [(m, p) for m, p, model in routes if model is None and (m, p) not in NOT_JSON]
    assert not missing, f"give these routes a response_model (or list them in NOT_JSON with a reason): {missing}"
    stale = [k for k in NOT_JSON if k not in {(m, p) for m, p, _ in routes}]
    assert not stale, f"NOT_JSON lists routes that are gone: {stale}"


def test_every_documented_api_operation_lists_its_errors(app):
    doc = app.openapi()
    lacking = []
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            codes = set(op["responses"])
            success = {c for c in codes if c.startswith("2")}
            # Every /api/ route takes a token: 401 and 403 can always happen, 422 for any parameter or body.
            needed = {"401", "403"} | ({"422"} if op.get("parameters") or op.get("requestBody") else set())
            if not success or not needed <= codes:
                lacking.append((method.upper(), path, sorted(codes)))
            for code in codes - success:
                assert op["responses"][code].get("description"), f"{method} {path} {code}: say when"
    assert not lacking, f"these operations do not document their errors: {lacking}"


def test_a_422_is_described_as_the_one_string_the_api_sends(app):
    doc = app.openapi()
    op = doc["paths"]["/api/v1/cases/{case_id}"]["get"]
    assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/HTTPValidationError")
    assert doc["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]["type"] == "string"


def test_a_record_route_documents_its_404(app):
    """A route with a record's id in its path can answer 404, and says so."""
    doc = app.openapi()
    lacking = [(m.upper(), p) for p, ops in doc["paths"].items() if p.startswith("/api/") and "_id}" in p
               for m, op in ops.items() if "404" not in op["responses"]]
    assert not lacking, lacking


def test_the_models_keep_the_times_as_they_were(app):
    """Times render as `datetime.isoformat()` (what orjson wrote before the models), not pydantic's `Z`."""
    at = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    written = json.loads(Acknowledged(version_id=1, acknowledged_at=at).model_dump_json())  # as FastAPI writes it
    assert written["acknowledged_at"] == "2026-01-02T03:04:05.000678+00:00" == at.isoformat()
    doc = app.openapi()
    assert doc["components"]["schemas"]["Acknowledged"]["properties"]["acknowledged_at"]["format"] == "date-time"

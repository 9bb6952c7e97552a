"""Ids no database row can have (beyond 64 bits, zero, negative) get a 422 naming the parameter, never a 500.

SQLite's driver raises OverflowError on an integer beyond 64 bits, so before the ids were bounded a URL
such as /api/v1/posts/99999999999999999999999 answered 500 (found with schemathesis). Every JSON route
with an integer path parameter is walked, so a route added later with an unbounded id fails here.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.both_databases

HUGE = 2**70


def id_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path, integer path parameters) for every JSON route that takes an integer id in its path."""
    out = []
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            original = getattr(ctx, "original_route", ctx)
            dependant = getattr(original, "dependant", None)
            if dependant is None or not ctx.path.startswith("/api/"):
                continue
            names = [p.name for p in dependant.path_params if p.field_info.annotation is int]
            for method in sorted(set(original.methods or ()) - {"HEAD"}):
                if names:
                    out.append((method, ctx.path, names))
    return out


@pytest.fixture
def admin(api_for):
    return api_for("ada")


def test_every_id_in_a_path_is_bounded(gov_app, admin):
    routes = id_routes(gov_app)
    # The walk must find the routes it is meant to guard, or it would pass by finding nothing.
    assert {("GET", "/api/v1/posts/{post_id}"), ("DELETE", "/api/v1/tokens/{token_id}"),
            ("POST", "/api/v1/incidents/{incident_id}/reopen"), ("GET", "/api/v1/playbooks/{playbook_id}")} <= {
        (m, p) for m, p, _ in routes}
    problems = []
    for method, path, names in routes:
        for bad in (HUGE, -HUGE, 0):
            url = re.sub(r"\{(\w+)\}", lambda m, bad=bad, names=names: str(bad) if m.group(1) in names else "x",
                         path)
            r = admin.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None)
            detail = r.json().get("detail", "") if r.headers.get("content-type", "").startswith("application/json") \
                else r.text
            if r.status_code != 422 or f"path.{names[0]}" not in str(detail):
                problems.append(f"{method} {url} -> {r.status_code} {str(detail)[:120]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("method, url, payload, where", [
    ("POST", "/api/v1/guard/check", {"text": "hello", "case_id": HUGE}, "case_id"),
    ("POST", "/api/v1/messages/retry", {"ids": [1, HUGE]}, "ids.1"),
    ("GET", f"/api/v1/messages?cursor={HUGE}", None, "query.cursor"),
    ("GET", f"/api/v1/audit?before={HUGE}", None, "query.before"),
])
def test_ids_in_bodies_and_queries_are_bounded(admin, method, url, payload, where):
    r = admin.request(method, url, json=payload)
    assert r.status_code == 422, r.text
    assert where in r.json()["detail"] and "less than or equal to 9223372036854775807" in r.json()["detail"]


def test_contact_link_other_is_bounded(admin, runtime):
    r = admin.post("/api/v1/contacts/1/link", json={"other": HUGE})
    assert r.status_code == 422 and "other" in r.json()["detail"], r.text


def test_the_schema_describes_the_422s_the_api_sends(gov_app, admin):
    # schemathesis flagged every 422: the schema promised FastAPI's list of errors, the handler sends one string.
    schema = admin.get("/openapi.json").json()
    detail = schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    r = admin.get(f"/api/v1/posts/{HUGE}")
    assert r.status_code == 422 and detail["type"] == "string" and isinstance(r.json()["detail"], str)
    responses = schema["paths"]["/api/v1/posts/{post_id}"]["get"]["responses"]
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/HTTPValidationError")

"""Every demo traffic template is triaged to the intent, and routed to the lead team, it was written for.

The demo is a new user's first screen: a template that lands in the wrong queue (product questions held by
Recruiting & HR) teaches them the product cannot read. Triaged as the demo runs it (the packaged model with
escalation, the demo's product catalog), routed by the default playbook, for every product the simulation names.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onevoice.connectors.sandbox.traffic import FOLLOW_UPS, PRODUCTS, TEMPLATES
from onevoice.demo.seed import CATALOG
from onevoice.routing.factory import default_playbook
from onevoice.routing.types import RouteInput
from onevoice.triage.catalog import CatalogEntry
from onevoice.triage.escalation import EscalatingTriager
from onevoice.triage.triager import FastTriager
from onevoice.triage.types import TriageInput

TUESDAY = datetime(2026, 11, 17, 11, 0, tzinfo=UTC)
CASES = [(t, p) for group in TEMPLATES.values() for t in group for p in PRODUCTS if "{p}" in t.text]
CASES += [(t, None) for group in TEMPLATES.values() for t in group if "{p}" not in t.text]
CASES += [(t, None) for t in FOLLOW_UPS]


@pytest.fixture(scope="module")
def demo_triager():
    catalog = [CatalogEntry(key, name, tuple(aliases)) for key, (name, aliases) in CATALOG.items()]
    return EscalatingTriager(FastTriager(catalog=catalog))


def test_templates_say_what_they_are():
    for intent, group in TEMPLATES.items():
        assert group and all(t.intent == intent for t in group)


@pytest.mark.parametrize("template,product", CASES, ids=lambda v: v.text[:40] if hasattr(v, "text") else str(v))
def test_template_reaches_its_intent_and_lead_team(demo_triager, template, product):
    text = template.text.format(p=product or "", n=48213)
    t = demo_triager.triage(TriageInput(text=text))
    d = default_playbook().route(RouteInput(text=text, kind="mention", channel="sandbox-x", created_at=TUESDAY,
                                            triage=t, channel_kind="sandbox"))
    assert (t.intent, d.lead_team) == (template.intent, template.lead), (t.explanation, d.reason)
    if product:  # the catalog knows every product the simulation names
        assert [CATALOG[key][0] for key in t.products] == [product], (text, t.products)

"""The models page in a real browser: how each version was judged, per class, and how to enable training."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onevoice.db import make_engine, make_sessionmaker, unit_of_work
from onevoice.triage.models import ModelVersion
from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

ORG = {"candidate": {"complaint": {"n": 412, "macro_f1": 0.81, "per_class": {"no": 0.84, "yes": 0.78}},
                     "sentiment": {"n": 380, "macro_f1": 0.72, "per_class": {"negative": 0.8, "neutral": 0.66,
                                                                            "positive": 0.7}}},
       "active": {"complaint": {"n": 412, "macro_f1": 0.52, "per_class": {"no": 0.61, "yes": 0.43}},
                  "sentiment": {"n": 380, "macro_f1": 0.6, "per_class": {"negative": 0.64, "neutral": 0.55,
                                                                        "positive": 0.61}}}}
PUBLIC = {"sentiment": {"tweeteval-val-half": {"n": 1016, "macro_f1": 0.566, "per_class": {
    "negative": 0.52, "neutral": 0.53, "positive": 0.648}}}}
BEFORE = {"sentiment": {"tweeteval-val-half": {"n": 1016, "macro_f1": 0.571, "per_class": {
    "negative": 0.525, "neutral": 0.534, "positive": 0.655}}}}


def test_the_models_page_shows_how_a_version_was_judged(server, sign_in, settings, monkeypatch):
    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as s:
        s.add(ModelVersion(version="hv-20261120-0930-ab12", path="/srv/models/hv-20261120-0930-ab12", active=True,
                           metrics={"quality": 0.6711, "baseline_quality": 0.6805, "baseline_version": "hv-packaged-1",
                                    "verdict": "better on your held-out labels 0.7650 vs 0.5600 (n=792); public "
                                               "0.6711 vs 0.6805 is within 0.02",
                                    "org": ORG, "heads": PUBLIC, "baseline_heads": BEFORE,
                                    "examples": {"corrections": 1210, "extra": 2000, "held_out": 792}}))
    engine.dispose()
    lee = sign_in("lee@acme.test")
    lee.goto(f"{server.url}/triage/models")
    expect(lee.locator("h1")).to_have_text("Triage models")
    expect(lee.locator("#versions")).to_contain_text("hv-20261120-0930-ab12")
    expect(lee.locator("#versions")).to_contain_text("active")
    latest = lee.locator("#latest")
    expect(latest).to_contain_text("On your held-out labels")
    expect(latest.locator("tr", has_text="complaint macro-F1").first).to_contain_text("0.810")
    expect(latest.locator("tr", has_text="complaint macro-F1").first).to_contain_text("0.520")
    expect(latest).to_contain_text("Public held-out set: tweeteval-val-half")
    expect(lee.locator("#training")).to_contain_text("onevoice model train")
    shot(lee, "triage-models")
    # The playbook page links here.
    lee.goto(f"{server.url}/routing/playbook")
    lee.locator("nav a", has_text="Models").click()
    lee.wait_for_url("**/triage/models")
    # An install without the train extra says how to enable it.
    from onevoice.triage import service

    monkeypatch.setattr(service, "training_available", lambda: False)
    lee.reload()
    expect(lee.locator("#training")).to_contain_text("Training is not installed here")
    expect(lee.locator("#training")).to_contain_text("pip install 'onevoice[train]'")
    assert not lee.js_errors

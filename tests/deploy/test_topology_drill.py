"""The production topology's failure drill (deploy/prove.py), run for real when CI=true, and the verdict's
rules on made-up runs (so that we know each broken promise would be caught)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from deploy.prove import verdict
from deploy.traffic import Attempt, Delivery, Sender

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.mark.timeout(600)
def test_the_topology_survives_kills_and_restarts(tmp_path):
    if not (IN_CI or os.environ.get("ONEVOICE_PROVE")):
        pytest.skip("about two minutes of real processes: runs when CI=true or ONEVOICE_PROVE=1 (or `make prove`)")
    report_path = tmp_path / "report.json"
    drill = subprocess.Popen([sys.executable, "-m", "deploy.prove", "--report", str(report_path)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = drill.communicate(timeout=540)
    except subprocess.TimeoutExpired:
        drill.terminate()  # SIGTERM: the drill stops PostgreSQL, Redis, nginx and the nodes it started
        _out, err = drill.communicate(timeout=90)
    assert report_path.exists(), err[-4000:]
    report = json.loads(report_path.read_text())
    assert drill.returncode == 0 and report["problems"] == [], json.dumps(report, indent=1)[-4000:]
    # The drill hit what it meant to hit, or a green verdict would prove nothing:
    assert report["answers_503_while_postgres_down"] > 0, "traffic reached the proxy while PostgreSQL was down"
    assert report["nginx_passed_to_the_other_node"] > 0, "requests met the killed web node"
    assert set(report["processed_by"]) == {"worker1", "worker2"}
    assert report["stored"] == report["messages"] >= 1000
    live = report["live"]
    assert live["heard_the_message_sent_after_the_drill"], live
    assert report["chaos"][0]["what"].startswith("kill web"), report["chaos"]
    assert live["api_connections"] >= 2, "the API's stream was on the killed node and came back through the proxy"


def _run(statuses_and_ids, stored, processed=None, windows=None):
    deliveries = [Delivery("webhook", [ext], [{}]) for ext, _s in statuses_and_ids]
    sender = Sender("", "", "")
    for i, (ext, status) in enumerate(statuses_and_ids):
        attempt = Attempt("webhook", ext, started=100.0 + i, ended=100.5 + i, status=status)
        if status is not None and status < 300:
            attempt.accepted = [{"id": i + 1, "external_id": ext}]
        sender.attempts.append(attempt)
        sender.settled[ext] = attempt
    stored_rows = {ext: (i + 1, "processed") for i, ext in enumerate(stored)}
    counts = Counter({i + 1: 1 for i in range(len(stored))}) if processed is None else Counter(processed)
    facts = {"stored": stored_rows, "processed_events": counts, "decisions": Counter(counts),
             "distinct_cases": len(stored_rows), "by_worker": {}}
    return verdict(deliveries, sender, facts, windows or {})


def test_verdict_passes_a_clean_run():
    assert _run([("a", 200), ("b", 202)], stored=["a", "b"])["problems"] == []


def test_verdict_catches_an_acknowledged_message_that_was_not_stored():
    problems = _run([("a", 200), ("b", 200)], stored=["a"])["problems"]
    assert any("acknowledged b" in p for p in problems) and any("not stored" in p for p in problems)


def test_verdict_catches_a_message_processed_twice():
    problems = _run([("a", 200)], stored=["a"], processed={1: 2})["problems"]
    assert any("not exactly once" in p for p in problems)


def test_verdict_allows_503_only_while_postgres_is_down():
    during = {"postgres_down": 100.0, "postgres_up": 102.0}
    assert not any("outside" in p for p in _run([("a", 503)], stored=["a"], windows=during)["problems"])
    later = {"postgres_down": 50.0, "postgres_up": 60.0}
    assert any("outside PostgreSQL's outage" in p for p in _run([("a", 503)], stored=["a"], windows=later)["problems"])
    assert any("not 503" in p for p in _run([("a", 502)], stored=["a"], windows=during)["problems"])
    assert any("not 503" in p for p in _run([("a", None)], stored=["a"], windows=during)["problems"])

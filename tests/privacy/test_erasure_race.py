"""PostgreSQL: an erasure and a worker processing one of the person's waiting messages at the same moment.

On SQLite the erasure's write transaction excludes the worker's, so what it reads is what it changes. On
PostgreSQL the worker holds the message's row while it processes it; the erasure found the message waiting,
then its change of status waited for the worker and no longer matched once the worker had stored it processed,
with a new case whose subject quoted her."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.messages.models import Message
from onevoice.pipeline.intake import accept_batch
from onevoice.pipeline.processor import Processor
from onevoice.pipeline.stages import build_router
from onevoice.privacy import erasure
from tests.privacy import world
from tests.privacy.scan import find_everywhere
from tests.scripted_triage import ScriptedTriager

pytestmark = pytest.mark.postgres
WORD = "Quorvantis"


class HeldTriager(ScriptedTriager):
    """Triages as scripted, but holds the batch (inside the worker's transaction) until told to go on."""

    def __init__(self):
        self.inside, self.go = threading.Event(), threading.Event()

    def triage_batch(self, items):
        self.inside.set()
        assert self.go.wait(30)
        return super().triage_batch(items)


def waiting_for_a_lock(runtime, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    with runtime.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar():
                return
            conn.rollback()
            time.sleep(0.05)
    raise AssertionError("the erasure never waited for the worker")


def test_a_message_the_worker_is_processing_during_the_erasure_is_erased_with_its_new_case(runtime, org, drain,
                                                                                           settings):
    zelda = world.build(runtime, org, drain)
    with unit_of_work(runtime.session_factory) as s:
        [mid] = accept_batch(s, [world._msg("mast", "zqmsg-3001", world.MAST_ID,
                                            f"{WORD}: what is the pricing for ten?", 95)]).new_ids
    triager = HeldTriager()
    processor = Processor(runtime.session_factory, triager, build_router(settings, runtime.session_factory))
    worker = threading.Thread(target=processor.process, args=([mid],))
    worker.start()
    assert triager.inside.wait(30)  # the worker holds the row
    result = {}
    officer = threading.Thread(target=lambda: result.update(erasure.erase_contact(
        runtime.session_factory, runtime.read_factory, org["ada"], zelda["contact_id"], reference="DSR-2026-044")))
    officer.start()
    waiting_for_a_lock(runtime)  # the erasure's write transaction waits for the worker's row
    triager.go.set()
    worker.join(30)
    officer.join(30)
    assert not worker.is_alive() and not officer.is_alive() and result

    with runtime.session_factory() as s:
        m = s.get(Message, mid)
        opened = s.get(Case, m.case_id)
    assert m.status == "processed" and m.text == "" and m.case_id not in zelda["case_ids"]  # it opened a case
    assert opened.subject == "(erased)"
    assert find_everywhere(runtime.engine, [*world.NEEDLES, WORD]) == []

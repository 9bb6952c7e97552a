"""The garbage collector's settings for the server and worker processes (ops/heap.py): what start-up and the
first batch loaded is frozen out of the collector's passes, and the young generation is collected less often."""

from __future__ import annotations

import gc

import pytest
from tests.factories import message, seed_org
from tests.scripted_triage import scripted_runtime

from onevoice.ops import heap
from onevoice.pipeline.intake import accept_batch
from onevoice.worker.runner import EmbeddedWorker


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_raises_the_thresholds_and_freezes_what_is_alive(restored_gc):
    gc.unfreeze()
    held = [[i] for i in range(1000)]  # alive now: frozen
    heap.tune()
    assert gc.get_threshold() == heap.THRESHOLDS
    assert gc.get_freeze_count() >= len(held)
    assert not any(gc.is_tracked(x) and any(x is y for y in gc.get_objects()) for x in held[:3])


def test_the_worker_freezes_once_after_its_first_batch(settings, restored_gc):
    runtime = scripted_runtime(settings)
    try:
        seed_org(runtime.session_factory)
        worker = EmbeddedWorker(runtime.processor, runtime.session_factory, lambda _e: None,
                                freeze_after_warm_up=True)
        gc.unfreeze()
        worker.run_once()  # nothing to process: nothing loaded yet, nothing frozen
        assert gc.get_freeze_count() == 0
        with runtime.session_factory.begin() as s:
            accept_batch(s, [message(text="my order never arrived")])
        assert worker.run_once().processed
        frozen = gc.get_freeze_count()
        assert frozen > 0
        gc.unfreeze()
        with runtime.session_factory.begin() as s:
            accept_batch(s, [message(text="still waiting")])
        assert worker.run_once().processed
        assert gc.get_freeze_count() == 0  # once only: later batches' garbage is never frozen
    finally:
        runtime.dispose()

"""The garbage collector's settings for long-running processes (the server and its workers).

CPython's cyclic collector runs a young-generation pass every 700 net allocations and, every so often, a
full pass over every tracked object. A worker's batch allocates hundreds of thousands of short-lived
objects (rows, triage inputs, decisions), so it ran thousands of young passes and a full pass over the
models and caches (the triage vocabulary, word vectors, SQLAlchemy's compiled statements) every few
thousand messages: in `bench_pipeline`-style runs, full passes took about a third of the worker's time.
What start-up and the first batch loaded lives as long as the process: `freeze` moves it out of the
collector's sight, and larger thresholds let a batch's garbage go by reference counting, as almost all of
it does, before a pass looks at it. Peak memory measured the same (310 MB over 20,000 messages).
"""

from __future__ import annotations

import gc

# Young passes every 20,000 net allocations instead of 700; the older generations as often as before, in
# young passes. Cycles are still collected, only in fewer, larger passes.
THRESHOLDS = (20_000, 20, 20)


def tune() -> None:
    """Raise the thresholds and freeze what the process holds now (call once start-up is done)."""
    gc.set_threshold(*THRESHOLDS)
    freeze()


def freeze() -> None:
    """Collect, then keep everything alive now out of later passes (the models a first batch loaded)."""
    gc.collect()
    gc.freeze()

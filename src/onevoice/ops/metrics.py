"""Prometheus metrics. Module-level: one set per process, shared by web and worker threads."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACCEPTED = Counter("onevoice_messages_accepted_total", "Messages accepted by intake (new, not duplicates)")
DUPLICATES = Counter("onevoice_messages_duplicate_total", "Messages received again and absorbed")
REJECTED = Counter("onevoice_messages_rejected_total", "Messages rejected by intake validation")
PROCESSED = Counter("onevoice_messages_processed_total", "Messages through triage, routing and threading")
FAILED = Counter("onevoice_messages_failed_total", "Messages whose processing failed")
LATENCY = Histogram(
    "onevoice_processing_latency_seconds", "From accept to visible in its case",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BATCH_SECONDS = Histogram("onevoice_worker_batch_seconds", "Time to process one worker batch")
# The reports' upkeep runs in the web process's scheduler thread beside the requests: its own CPU (the thread's,
# every run, skipped ones too) is what it costs the server, read as one figure rather than estimated.
UPKEEP_CPU = Counter("onevoice_reports_upkeep_cpu_seconds", "CPU time of the scheduler thread in the reports' upkeep")
UPKEEP_CASES = Counter("onevoice_reports_upkeep_cases", "Cases the reports' upkeep updated, folded or recomputed",
                       ["how"])

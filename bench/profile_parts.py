"""The server's samples split into the pipeline's parts, from py-spy's collapsed stacks (`bench_webhooks --profile
FILE`): each stack counts once, for the first part in PARTS that any of its frames names (so the transformer's run
inside the escalation inside the look-ahead counts as the transformer's). The web process is one part.

    python -m bench.profile_parts FILE [--ms-per-message 0.958]

With --ms-per-message (the run's server CPU a message), each share is also given in microseconds a message.
"""

from __future__ import annotations

import argparse
from collections import Counter

from bench.profile_summary import stacks

PARTS = (
    ("transformer: onnxruntime run", "Session.run"),
    ("transformer: its ids and answer cache", "SentimentTransformer.probabilities"),
    ("escalation: static encoder", "StaticEncoder.encode"),
    ("escalation: dense signals again", "DenseSignals.matrix"),
    ("escalation: second opinion", "EscalatingTriager._second_opinion"),
    ("fast: VADER", "DenseSignals.vader"),
    ("fast: rules", "rules.py"),
    ("fast: language (fastText)", "LanguageDetector.detect"),
    ("fast: pii", "find_pii"),
    ("fast: sarcasm", "sarcasm.py"),
    ("fast: contradiction", "contradiction.py"),
    ("fast: catalog", "catalog.py"),
    ("fast: dense row", "DenseSignals.row"),
    ("fast: _read, other", "FastTriager._read"),
    ("fast: tokenizer", "features.py"),
    ("fast: word scorer", "wordscore.py"),
    ("fast: _result", "FastTriager._result"),
    ("fast: _top_words", "FastTriager._top_words"),
    ("fast: other", "FastTriager"),
    ("escalation: other", "EscalatingTriager.triage_batch"),
    ("look-ahead: routing", "Processor._route"),
    ("look-ahead: triage documents encoded", "encode_json"),
    ("look-ahead: other", "Processor._look_ahead"),
    ("write transaction", "Processor.process"),
    ("worker: other", "EmbeddedWorker"),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--ms-per-message", type=float)
    args = parser.parse_args()
    counts: Counter = Counter()
    for frames, n in stacks(args.file):
        # py-spy names the server process first, then a worker child's process when the stack is in one.
        if not (len(frames) > 1 and frames[1].startswith("process")):
            counts["web process (the API)"] += n
            continue
        part = next((name for name, key in PARTS if any(key in frame for frame in frames)), "worker: outside the loop")
        counts[part] += n
    total = sum(counts.values())
    print(f"{total} samples")
    for part, n in counts.most_common():
        us = f"  {n / total * args.ms_per_message * 1000:5.0f} us/msg" if args.ms_per_message else ""
        print(f"{part:40} {n / total:6.1%}{us}")


if __name__ == "__main__":
    main()

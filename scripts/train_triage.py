"""Rebuild the triage heads shipped in the package (src/onevoice/triage/model/).

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_triage.py [--data ../shared/data] [--escalation-only]

Trains the fast heads and the escalation heads (on the encoder in triage/encoder_model/, built by
scripts/build_encoder.py). --escalation-only keeps the shipped fast heads and retrains only the
escalation heads, e.g. after rebuilding the encoder.
Rerunnable: same data, same code, same weights (the data shuffles use a fixed seed).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from onevoice.triage import datasets
from onevoice.triage.escalation import EscalatingTriager
from onevoice.triage.heads import PACKAGED_MODEL_DIR
from onevoice.triage.train import combined_quality, fit, fit_escalation, quality
from onevoice.triage.triager import FastTriager


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=PACKAGED_MODEL_DIR)
    parser.add_argument("--limit", type=int, default=None, help="cap each public source (quick experiments)")
    parser.add_argument("--escalation-only", action="store_true", help="keep the fast heads in --out")
    args = parser.parse_args()
    t0 = time.perf_counter()
    splits = datasets.load(args.data, limit=args.limit)
    if not args.escalation_only:
        heads = fit(splits, version="hv-packaged-1")
        heads.meta["quality"] = quality(heads.meta["metrics"])
        heads.save(args.out)
        print(json.dumps(heads.meta["metrics"], indent=1))
    escalation = fit_escalation(splits)
    escalation.save(args.out)
    fast = FastTriager(model_dir=args.out)
    combined = combined_quality(fast, EscalatingTriager(fast, args.out), splits)
    escalation.meta["combined"] = combined
    escalation.save(args.out)
    print(json.dumps({"escalation heads": escalation.meta["metrics"], "full triage": combined}, indent=1))
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"size {size / 1e6:.1f} MB  in {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()

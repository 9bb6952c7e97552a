"""Pack the public training data that may be redistributed into the package (src/onevoice/triage/public_data/).

    .venv/bin/python scripts/pack_public_data.py [--data ../shared/data]

So that `pip install 'onevoice[train]'` then `onevoice model train` works without the shared data folder.
Only sets whose licenses allow redistribution, only the columns training reads, xz-compressed, each with
its license and attribution (public_data/NOTICE.md says what changed). TweetEval is not packed: see NOTICE.md.
Rerunnable: same input, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import lzma
from pathlib import Path

from onevoice.triage import datasets

OUT = Path(datasets.__file__).parent / "public_data"


def _write(name: str, header: list[str], rows: list[tuple]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)  # texts hold stray \r
    writer.writerow(header)
    writer.writerows(rows)
    # xz at its strongest preset; no timestamp or file name inside, so the bytes depend on the rows only.
    (OUT / name).write_bytes(lzma.compress(buf.getvalue().encode("utf-8"), preset=9 | lzma.PRESET_EXTREME))
    print(f"{name}: {len(rows)} rows, {(OUT / name).stat().st_size / 1e3:.0f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA_DIR)
    args = parser.parse_args()
    data = args.data
    with (data / "tweet-acts" / "TWEET_DATA.csv").open(encoding="utf-8", newline="") as f:
        acts = [(row[0], row[-1]) for row in csv.reader(f) if len(row) >= 2 and row[-1] in datasets.ACTS]
    _write("tweet_acts.csv.xz", ["text", "act"], acts)
    crisis = datasets.read_crisislex_csvs(data)
    _write("crisislex_t26.csv.xz", ["event", "text", "informative"], crisis)
    with (data / "bitext-customer-support" / datasets.BITEXT_FILE).open(encoding="utf-8", newline="") as f:
        bitext = [(r["instruction"], r["intent"]) for r in csv.DictReader(f)]
    _write("bitext_customer_support.csv.xz", ["instruction", "intent"], bitext)


if __name__ == "__main__":
    main()

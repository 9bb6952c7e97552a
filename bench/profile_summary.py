"""Where the server's time goes, from py-spy's collapsed stacks (`bench_webhooks --profile FILE`).

Prints, per thread, the share of samples whose stack passes through each of our functions (inclusive)
and the leaf frames that take the most (exclusive).

    python -m bench.profile_summary FILE [--top 30] [--match onevoice]
"""

from __future__ import annotations

import argparse
import collections
import re
from collections.abc import Iterator


def stacks(path: str) -> Iterator[tuple[list[str], int]]:
    """Each collapsed stack of the file ("frame;frame;... count"): its frames, outermost first, and its samples."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if count.isdigit():
                yield stack.split(";"), int(count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only count inclusive frames containing this text")
    args = parser.parse_args()
    inclusive: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    leaves: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    totals: collections.Counter = collections.Counter()
    for frames, n in stacks(args.file):
        first = frames[0] if frames else ""
        thread = re.sub(r"0x[0-9a-f]+", "", first) if first.startswith(("thread", "process")) else "?"
        totals[thread] += n
        for f in set(frames[1:]):
            if args.match in f:
                inclusive[thread][f] += n
        leaves[thread][frames[-1]] += n
    for thread, total in totals.most_common():
        print(f"\n== {thread}: {total} samples")
        print("  inclusive:")
        for f, n in inclusive[thread].most_common(args.top):
            print(f"    {100 * n / total:5.1f}%  {f[:150]}")
        print("  leaves:")
        for f, n in leaves[thread].most_common(args.top // 2):
            print(f"    {100 * n / total:5.1f}%  {f[:150]}")


if __name__ == "__main__":
    main()

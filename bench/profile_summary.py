"""Where the server's time goes, from py-spy's collapsed stacks (`bench_webhooks --profile FILE`).

Prints, per thread, the share of samples whose stack passes through each of our functions (inclusive)
and the leaf frames that take the most (exclusive).

    python -m bench.profile_summary FILE [--top 30] [--match onevoice]
"""

from __future__ import annotations

import argparse
import collections
import re


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only count inclusive frames containing this text")
    args = parser.parse_args()
    inclusive: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    leaves: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    totals: collections.Counter = collections.Counter()
    with open(args.file, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        first = frames[0] if frames else ""
        thread = re.sub(r"0x[0-9a-f]+", "", first) if first.startswith(("thread", "process")) else "?"
        n = int(count)
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

"""How fast the in-process simulator produces life: N homes × D days of contract messages.

    python benchmarks/simulator_generate.py --homes 10 --days 30

Prints messages, bytes and wall time. The target (issue 4) is 10 homes × 30 days in under
a minute on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from simulator.life import LifeConfig
from simulator.routine import DAY_S
from simulator.stream import normal_lives, run_stream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = LifeConfig()
    started = time.perf_counter()
    lives = normal_lives(args.homes, args.seed, config)
    kinds: Counter[str] = Counter()
    size = 0
    for emission in run_stream(lives, config.start + args.days * DAY_S, seed=args.seed):
        kinds[emission.kind] += 1
        size += len(emission.payload)
    wall = time.perf_counter() - started
    total = sum(kinds.values())
    print(
        f"{args.homes} homes × {args.days} days: {total} messages, {size / 1e6:.1f} MB "
        f"in {wall:.1f} s ({total / wall:.0f} msg/s, {total / args.homes / args.days:.0f} "
        f"messages per home-day)"
    )
    for kind, count in kinds.most_common():
        print(f"  {kind:14s} {count / args.homes / args.days:8.1f} per home-day")


if __name__ == "__main__":
    main()

"""Checkpoint bytes per home for homes that have learned (DESIGN §8, issues 18 and 20).

``state_size.py`` feeds every home the same morning, so its deflated checkpoint shrinks to
almost nothing (deflate finds each home a copy of the one before): a lower bound, not a
figure. Here each real recording (and ``--sim N`` simulated homes) is replayed through its
own ``InactivityRule`` to the end, and its home's state is measured alone: the JSON the
checkpoint held before, and that JSON deflated as the snapshot does, with no other home to
share a dictionary with (an upper bound: a checkpoint of many homes deflates better).
Run: ``python benchmarks/learned_state.py ../shared/data/casas-al-smarthome
../shared/data/adl-dev --sim 12``.
"""

from __future__ import annotations

import argparse
import json
import zlib
from datetime import timedelta
from pathlib import Path

from detector.activity.rule import InactivitySettings
from evaluation.activity.homes_eval import _events, discover, simulated
from evaluation.activity.replay import HOME, Replayer


def measure(paths: list[Path], sim: int) -> list[tuple[str, int, int]]:
    rows = []
    for source in [*discover(paths), *simulated(sim, 21, 7)]:
        events, infos = _events(source)
        replayer = Replayer(events, infos, InactivitySettings())
        rule = replayer.new_rule()
        for _ in replayer.run(rule, 0, events[-1].ts, events[0].ts - timedelta(seconds=1)):
            pass
        text = json.dumps({HOME: rule.homes[HOME].to_dict()}, separators=(",", ":")).encode()
        rows.append((source.name, len(text), len(zlib.compress(text, 1))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--sim", type=int, default=0)
    args = parser.parse_args()
    rows = measure(args.paths, args.sim)
    for name, plain, deflated in rows:
        print(f"{name:40s} plain JSON {plain:6d} B  deflated {deflated:6d} B")
    plain = sum(r[1] for r in rows) / len(rows)
    deflated = sum(r[2] for r in rows) / len(rows)
    print(f"mean over {len(rows)} homes: plain JSON {plain:.0f} B, deflated {deflated:.0f} B")


if __name__ == "__main__":
    main()

"""Pendant streams cut off right after an impact: falls still found, everyday impacts silent.

    python benchmarks/falls_cut_streams.py DATA_DIR [--rate HZ] [--after S ...] [--json]

A pendant's link drops, or its battery is knocked loose, right after an impact more often
than at any other time. ``FallStream.cut`` then decides the impact as if the pendant lay
still from where it was last seen. This replays every recording of DATA_DIR (SisFall
format) with the bundled model and cuts it ``--after`` seconds after each impact: for a fall
the recording's SVM maximum, for an activity each candidate impact the uncut stream found.
It counts the cuts that raise an alarm within 1.5 s of that impact: for falls that is what a
cut still catches (before ``cut`` existed: none), for activities what it costs. The model
was trained on SisFall-dev, so on SisFall-dev these are in-sample figures.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from detector.falls.scoring import FallModel, bundled_model
from detector.falls.stream import Candidate, FallConfig, FallStream
from evaluation.falls.replay import downsample, stream_recording
from evaluation.falls.sisfall import find_trials, read_trial

#: How near the cut decision must put its alarm to the impact the cut followed.
NEAR_S = 1.5


def cuts(
    samples: np.ndarray, rate_hz: float, impacts: list[float], after_s: float, stream: FallStream
) -> Iterator[tuple[float, list[Candidate]]]:
    """Each impact, and what the stream decides when the recording is cut ``after_s`` after
    it (the samples up to the cut, then ``FallStream.cut``).

    The stream is played once in one-second batches; each cut works on a copy of it.
    """
    step, at = round(rate_hz), 0
    for impact in sorted(impacts):
        end = min(round((impact + after_s) * rate_hz) + 1, len(samples))
        while at + step <= end:
            stream.push(at / rate_hz, rate_hz, samples[at : at + step])
            at += step
        cut = copy.deepcopy(stream)
        decided = cut.push(at / rate_hz, rate_hz, samples[at:end]) if end > at else []
        yield impact, decided + cut.cut()


def cut_alarms(
    samples: np.ndarray, rate_hz: float, impacts: list[float], after_s: float, stream: FallStream
) -> int:
    """How many of ``impacts`` alarm when the recording is cut ``after_s`` after each."""
    return sum(
        any(c.alarm and abs(c.impact_at - impact) < NEAR_S for c in decided)
        for impact, decided in cuts(samples, rate_hz, impacts, after_s, stream)
    )


def replay_parser(doc: str) -> argparse.ArgumentParser:
    """The arguments of a benchmark that replays a SisFall-format folder at one rate."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--json", action="store_true")
    return parser


def bundled() -> tuple[FallModel, FallConfig]:
    """The shipped model and the stream geometry it was trained for."""
    model = bundled_model()
    if model is None:
        raise SystemExit("no bundled fall model")
    return model, FallConfig(**model.config)


def main() -> None:
    parser = replay_parser(__doc__)
    parser.add_argument("--after", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0])
    args = parser.parse_args()
    model, config = bundled()
    counts = {kind: {after: [0, 0] for after in args.after} for kind in ("falls", "activities")}
    for trial in find_trials(args.data):
        samples = downsample(read_trial(trial.path), args.rate)
        if trial.is_fall:
            impacts = [float(np.linalg.norm(samples, axis=1).argmax()) / args.rate]
        else:
            uncut = stream_recording(samples, args.rate, FallStream(model, config))
            impacts = [c.impact_at for c in uncut]
        kind = "falls" if trial.is_fall else "activities"
        for after in args.after:
            stream = FallStream(model, config)
            counts[kind][after][0] += cut_alarms(samples, args.rate, impacts, after, stream)
            counts[kind][after][1] += len(impacts)
    report = {
        kind: {f"{after:g}": {"alarmed": a, "cut": n} for after, (a, n) in rows.items()}
        for kind, rows in counts.items()
    }
    if args.json:
        print(json.dumps({"rate_hz": args.rate, **report}, indent=2))
        return
    for kind, rows in report.items():
        for after, row in rows.items():
            print(f"{kind:10s} cut {after:>4s} s after the impact: {row['alarmed']}/{row['cut']}")


if __name__ == "__main__":
    main()

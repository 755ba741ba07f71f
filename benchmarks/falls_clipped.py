"""SisFall's held-out people as a device with a smaller range (or another gain) records them.

    python benchmarks/falls_clipped.py DATA_DIR [--range-g 2] [--gain 1] [--rate 50] [--cv 5]
        [--json]

Issue 15: the shipped model loses MobiFall's falls, and MobiFall differs from SisFall in
three ways at once — another lab, the phone in a trouser pocket instead of a waist pendant,
and an accelerometer that saturates at about ±2 g per axis. This isolates the last one: the
leave-subjects-out fold models are trained as ``eldercare eval falls --cv`` trains them, on
the recordings as they are, and each held-out subject is scored twice — as recorded, and
with every axis clipped at ±``range_g`` (in the 200 Hz data, before the device's block
means), the same pendant with a ±2 g range. What clipping costs on the same people and
placement is then what a range-independent description of the impact could win back.

``--gain G``: the device also reads G times the true acceleration (before it saturates), a
sensor whose 1 g reads G g at rest; with ``--range-g 16`` (SisFall's own range) that is the
gain alone. Features and the 1.6 g candidate threshold are in g, so a gain error is a
device difference the model may never have seen (fallcal, docs/falls.md).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.falls_lodo import figures
from detector.falls.stream import FallConfig
from eldercare.logs import configure_logging
from evaluation.falls.augment import clip_axes
from evaluation.falls.cross_validation import cross_validated_scorers, evaluate
from evaluation.falls.replay import replay
from evaluation.falls.sisfall import find_trials
from evaluation.falls.training import TRAINING_RATES_HZ


def as_device_reads(samples: np.ndarray, range_g: float, gain: float) -> np.ndarray:
    """The true acceleration as a device with this gain and range reports it."""
    return clip_axes(samples * gain, range_g)


def run(
    data_dir: Path, range_g: float, rate_hz: float, folds: int, gain: float = 1.0
) -> dict[str, Any]:
    """``{"as_recorded": figures, "clipped": figures}`` from the same fold models
    ("clipped": as the device of ``range_g`` and ``gain`` reads them)."""
    trials = find_trials(data_dir)
    training = replay(trials, TRAINING_RATES_HZ)
    subjects = sorted({run.trial.subject for run in training[0].trials})
    scorer_for, _ = cross_validated_scorers(training, subjects, folds)
    refractory_s = FallConfig().refractory_s
    as_recorded = replay(trials, [rate_hz])[0]
    clipped = replay(
        trials, [rate_hz], transform=partial(as_device_reads, range_g=range_g, gain=gain)
    )[0]
    return {
        "as_recorded": figures(evaluate(as_recorded, scorer_for, refractory_s)),
        "clipped": figures(evaluate(clipped, scorer_for, refractory_s)),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--range-g", type=float, default=2.0, help="full scale per axis (g)")
    parser.add_argument("--gain", type=float, default=1.0, help="the device reads G × true")
    parser.add_argument("--rate", type=float, default=50.0, help="evaluation rate (Hz)")
    parser.add_argument("--cv", type=int, default=5, help="folds of subjects")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging()
    results = run(args.data_dir, args.range_g, args.rate, args.cv, args.gain)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, row in results.items():
        print(
            f"{name:12} falls {row['falls'] - row['missed']}/{row['falls']} "
            f"(slow {row['slow_falls_detected']}/{row['slow_falls']}) "
            f"activities alarmed {row['adl_alarmed']}/{row['adl']} "
            f"FA/h {row['false_alarms_per_hour']:.2f} ({row['stream_false_alarms']} in "
            f"{row['stream_hours']:.2f} h)  missed {row['missed_by_code']}"
        )


if __name__ == "__main__":
    main()

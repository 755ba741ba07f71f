"""Daily-life streams from SisFall activity trials, and their cost per hour of wear.

    python benchmarks/falls_daily_stream.py DATA_DIR --write OUT_DIR [--rate HZ]
    python benchmarks/falls_daily_stream.py DATA_DIR --cv K [--rate HZ] [--json]

Each subject's activity (``Dxx``) recordings, in file-name order, are joined into one
``t,x,y,z`` stream (block means at ``--rate``; the clock runs on across the joins).
``--write`` saves one CSV per subject for ``eldercare eval falls OUT_DIR --stream``.
``--cv K`` does it leave-subjects-out: K models, each trained (as ``eldercare train
falls`` trains) without one fold of subjects, and each subject's stream played through
``FallRule`` with the model that never saw that subject; it prints suspicions and alerts
per hour of wear per subject group, and the trial-level figures of ``eldercare eval falls
--cv K`` (from the same models) with the slow falls of old age picked out. The joins are
abrupt posture changes no real day has.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from detector.falls.stream import FallConfig
from eldercare.logs import configure_logging
from evaluation.falls.cross_validation import cross_validated_scorers, evaluate
from evaluation.falls.daily_stream import StreamReport, run_stream
from evaluation.falls.replay import downsample, replay
from evaluation.falls.sisfall import find_trials, read_trial
from evaluation.falls.training import TRAINING_RATES_HZ

#: The low-energy falls typical of old age (issue 15): slips, fainting, from or onto a chair.
SLOW_FALLS = ("F01", "F04", "F06", "F10", "F13", "F14", "F15")
#: Trial-level figures of ``evaluate`` worth comparing between detector versions.
TRIAL_KEYS = ("sensitivity", "specificity", "false_alarms_per_hour", "fp", "fn", "by_group")


def slow_falls(by_code: dict[str, dict[str, float]]) -> dict[str, object]:
    """Detected / trials over the slow-fall codes, and the lab ADL codes that alarmed."""
    detected = sum(by_code[code]["alarmed"] for code in SLOW_FALLS if code in by_code)
    trials = sum(by_code[code]["trials"] for code in SLOW_FALLS if code in by_code)
    return {
        "detected": detected,
        "trials": trials,
        "sensitivity": detected / trials if trials else None,
        "missed_by_code": {
            code: by_code[code]["trials"] - by_code[code]["alarmed"]
            for code in SLOW_FALLS
            if code in by_code
        },
        "adl_alarmed_by_code": {
            code: row["alarmed"]
            for code, row in by_code.items()
            if code[0] == "D" and row["alarmed"]
        },
    }


def subject_streams(data_dir: Path, rate_hz: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per subject: (times, samples) of all their activity trials back to back."""
    parts: dict[str, list[np.ndarray]] = {}
    for trial in find_trials(data_dir):
        if not trial.is_fall:
            parts.setdefault(trial.subject, []).append(downsample(read_trial(trial.path), rate_hz))
    streams = {}
    for subject, chunks in sorted(parts.items()):
        samples = np.concatenate(chunks).astype(np.float64)
        streams[subject] = (np.arange(len(samples)) / rate_hz, samples)
    return streams


def write_csv(path: Path, times: np.ndarray, samples: np.ndarray) -> None:
    table = np.column_stack([times, samples])
    np.savetxt(path, table, fmt=["%.4f", "%.5f", "%.5f", "%.5f"], delimiter=",", header="t,x,y,z")


def summary(reports: list[StreamReport]) -> dict[str, dict[str, object]]:
    """Totals per subject group (letters of the subject id) and over all."""
    table: dict[str, dict[str, object]] = {}
    for key in ["all", *sorted({r.name.rstrip("0123456789") for r in reports})]:
        chosen = [r for r in reports if key == "all" or r.name.rstrip("0123456789") == key]
        hours = sum(r.hours for r in chosen)
        suspicions = sum(r.suspicions for r in chosen)
        alerts: Counter[str] = sum((r.alerts for r in chosen), Counter())
        table[key] = {
            "hours": round(hours, 3),
            "suspicions": suspicions,
            "suspicions_per_hour": round(suspicions / hours, 3),
            "critical": alerts["critical"],
            "critical_per_hour": round(alerts["critical"] / hours, 3),
            "medium": alerts["medium"],
            "medium_per_hour": round(alerts["medium"] / hours, 3),
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--write", type=Path, help="write one CSV stream per subject here")
    parser.add_argument("--cv", type=int, help="leave-subjects-out with this many folds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", True)
    streams = subject_streams(args.data_dir, args.rate)
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for subject, (times, samples) in streams.items():
            write_csv(args.write / f"{subject}.csv", times, samples)
        print(f"wrote {len(streams)} streams to {args.write}")
    if args.cv:
        trials = find_trials(args.data_dir)
        subjects = sorted({t.subject for t in trials})
        rates = [args.rate, *(r for r in TRAINING_RATES_HZ if r != args.rate)]
        replays = replay(trials, rates)
        training = [r for r in replays if r.rate_hz in TRAINING_RATES_HZ]
        scorer_for, folds = cross_validated_scorers(training, subjects, args.cv)
        trial_report = evaluate(replays[0], scorer_for, FallConfig().refractory_s)
        reports = [
            run_stream(subject, times, samples, scorer_for(subject), FallConfig())
            for subject, (times, samples) in streams.items()
        ]
        result = {
            "rate_hz": args.rate,
            "folds": folds,
            "trials": {key: trial_report[key] for key in TRIAL_KEYS},
            "slow_falls": slow_falls(trial_report["by_code"]),
            "groups": summary(reports),
            "subjects": [r.as_dict() for r in reports],
        }
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"{args.cv}-fold leave-subjects-out, {args.rate:g} Hz, folds {folds}")
            print("trials:", result["trials"], "slow falls:", result["slow_falls"])
            for key, row in result["groups"].items():
                print(f"{key:4} " + "  ".join(f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()

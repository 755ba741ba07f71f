"""Training copies at other sensor gains, judged by the issue-15 shipping rule.

    python benchmarks/falls_gain_augment.py SISFALL_DIR OTHER_DIR [--recipes 0.9,1.1 ...]
        [--extra-adl DIR ...] [--rates 50 20] [--cv 5] [--read-as 0.9 1.1]
        [--models-to DIR] [--json]

Issue 15: a sensor whose 1 g reads 1.1 g turns SisFall-dev's held-out activities from 1.2
into 3.4 suspicions per hour, one reading 0.9 g loses 17 of 1125 falls at 20 Hz
(``falls_clipped.py --gain``), and the shipped model has seen one sensor only. Each recipe
(comma-separated gains) trains, besides the recordings as they are, a copy of every
training recording as a sensor of each gain reads it (falls and activities alike), at the
training rates. Every recipe, and the shipped one (no copies), is then judged on exactly the
figures of the rule fixed before the runs.
Each ``--extra-adl`` folder (SisFall format, activities only: another device's daily life,
``scripts/convert_falls.py hapt``) is one more recipe: its recordings are added to the
training of every fold model and of the model for the other set, never scored. ``--models-to``
writes each recipe's model trained on everything (``<recipe>.npz``), for ``eval falls
--stream --model`` on long recordings. The rows:

- ``sisfall@R``: SisFall's own people, leave-subjects-out (``--cv`` folds, the folds of
  ``eldercare eval falls --cv``), each scored by the fold model that never saw them;
- ``other@R``: the other set (MobiFall: another lab, device and placement), scored by the
  model trained on all of SisFall — leave-one-dataset-out;
- ``sisfall×G@R``: the held-out people read by a sensor of gain G (``--read-as``), for the
  record; the rule does not look at them.

A recipe ``passes`` if, at every rate, it catches at least as many falls on both sets as
the shipped recipe and raises no more suspicions per hour (the activity streams) on either.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.falls_clipped import as_device_reads
from benchmarks.falls_lodo import everyone_by, figures
from detector.falls.stream import FallConfig
from eldercare.logs import configure_logging
from evaluation.falls.augment import gained_replays
from evaluation.falls.cross_validation import ScorerFor, cross_validated_scorers, evaluate
from evaluation.falls.replay import Replay, merged, replay
from evaluation.falls.sisfall import find_trials
from evaluation.falls.training import TRAINING_RATES_HZ, train

#: SisFall's ADXL345 full scale: a gain error alone, nothing saturates.
SISFALL_RANGE_G = 16.0
SHIPPED = "shipped"


def recipe_name(gains: Sequence[float]) -> str:
    return "+gain " + ",".join(f"{g:g}" for g in gains)


def adl_replays(folder: Path, rates: Sequence[float]) -> list[Replay]:
    """``folder``'s activity recordings replayed at ``rates``; a fall in it is refused (its
    people are in every fold's training, and a fall there would be judged nowhere)."""
    trials = find_trials(folder)
    falls = [t.path.name for t in trials if t.is_fall]
    if not trials or falls:
        raise ValueError(
            f"{folder}: expected activity recordings only, found {falls[:3] or 'none'}"
        )
    return replay(trials, rates, continuous=False)


def passes(shipped: dict[str, Any], candidate: dict[str, Any], rates: Sequence[float]) -> bool:
    """The rule: at every rate, on both sets, falls ≥ and suspicions per hour ≤ shipped."""
    for rate in rates:
        for test in ("sisfall", "other"):
            before, after = shipped[f"{test}@{rate:g}"], candidate[f"{test}@{rate:g}"]
            if after["missed"] > before["missed"]:
                return False
            if after["stream_false_alarms"] > before["stream_false_alarms"]:
                return False
    return True


def run(
    sisfall: Path,
    other: Path,
    recipes: Sequence[Sequence[float]],
    rates: Sequence[float] = (50.0, 20.0),
    folds: int = 5,
    read_as: Sequence[float] = (0.9, 1.1),
    extra_adl: Sequence[Path] = (),
    models_to: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """``{recipe: {row: figures, "passes": bool}}``, the shipped recipe first."""
    refractory_s = FallConfig().refractory_s
    trials = find_trials(sisfall)
    training_rates = list(TRAINING_RATES_HZ)  # the CLI's order: early stopping sees rows in order
    every_rate = [*training_rates, *(r for r in rates if r not in training_rates)]
    plain = replay(trials, every_rate)
    by_rate = {r.rate_hz: r for r in plain}
    tests: dict[str, Replay] = {f"sisfall@{rate:g}": by_rate[rate] for rate in rates}
    for rate, replayed in zip(rates, replay(find_trials(other), rates), strict=True):
        tests[f"other@{rate:g}"] = replayed
    for gain in read_as:
        reads = partial(as_device_reads, range_g=SISFALL_RANGE_G, gain=gain)
        for rate, replayed in zip(rates, replay(trials, rates, transform=reads), strict=True):
            tests[f"sisfall×{gain:g}@{rate:g}"] = replayed
    copies = {g: gained_replays(trials, training_rates, g) for gs in recipes for g in gs}
    subjects = sorted({run.trial.subject for run in plain[0].trials})
    extras = {f"+adl {folder.name}": adl_replays(folder, training_rates) for folder in extra_adl}
    results: dict[str, dict[str, Any]] = {}
    rows: dict[str, Any]
    plans = [(SHIPPED, (), [])]
    plans += [(recipe_name(gains), gains, []) for gains in recipes]
    plans += [(name, (), added) for name, added in extras.items()]
    if models_to is not None:
        models_to.mkdir(parents=True, exist_ok=True)
    for name, gains, added in plans:
        training = [
            merged([by_rate[rate], *(copies[g][i] for g in gains), *added[i : i + 1]])
            for i, rate in enumerate(training_rates)
        ]
        always = frozenset(run.trial.subject for r in added for run in r.trials)
        held_out_for, _ = cross_validated_scorers(training, subjects, folds, always=always)
        model = train(training)
        if models_to is not None:
            model.save(models_to / f"{name.lstrip('+').replace(' ', '-')}.npz")
        everyone: ScorerFor = everyone_by(model)
        rows = {}
        for row, replayed in tests.items():
            scorer_for = everyone if row.startswith("other") else held_out_for
            rows[row] = figures(evaluate(replayed, scorer_for, refractory_s))
        results[name] = rows
    for rows in results.values():
        rows["passes"] = passes(results[SHIPPED], rows, rates)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sisfall", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument(
        "--recipes", nargs="*", default=["0.9,1.1"], help="gains of the training copies, a,b,…"
    )
    parser.add_argument(
        "--extra-adl", type=Path, nargs="*", default=[], help="folders of activities to add"
    )
    parser.add_argument("--models-to", type=Path, help="write each recipe's model here")
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 20.0])
    parser.add_argument("--cv", type=int, default=5, help="folds of SisFall's subjects")
    parser.add_argument("--read-as", type=float, nargs="*", default=[0.9, 1.1])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging()
    recipes = [[float(g) for g in r.split(",")] for r in args.recipes]
    results = run(
        args.sisfall,
        args.other,
        recipes,
        args.rates,
        args.cv,
        args.read_as,
        args.extra_adl,
        args.models_to,
    )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for recipe, rows in results.items():
        print(f"{recipe}: {'passes' if rows.pop('passes') else 'does not pass'} the rule")
        for row, f in rows.items():
            print(
                f"  {row:18} falls {f['falls'] - f['missed']}/{f['falls']} "
                f"(slow {f['slow_falls_detected']}/{f['slow_falls']}) "
                f"activities alarmed {f['adl_alarmed']}/{f['adl']} "
                f"suspicions {f['stream_false_alarms']} in {f['stream_hours']:.2f} h "
                f"({f['false_alarms_per_hour']:.2f}/h)"
            )


if __name__ == "__main__":
    main()

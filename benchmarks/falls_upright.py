"""The remembered upright (issue 15): leave-subjects-out with and without a walking prelude.

    python benchmarks/falls_upright.py DATA_DIR [--rates 50 20] [--cv 5] [--recipes ...] [--json]

Every trial is replayed twice at 200, 50 and 20 Hz: alone (a fresh stream, as after a
restart or for a pendant put on while seated: the upright is unknown unless the trial
itself walks) and after 10 s of its subject's own walking (the start of their D01
recording; only candidates inside the trial count). Each subject's activity recordings
are also joined into one stream (suspicions per hour; the stream learns the upright as
it goes). Recipes, each trained in the same ``--cv`` folds by subject:

- ``shipped``: the window features only, trained on the plain replays (the bundled
  model's recipe);
- ``upright``: window + upright features, trained on every trial with *and* without the
  prelude, so a missing upright means "unknown" rather than "not a fall";
- ``upright_prelude_only``: the same features trained only after the prelude (the first
  experiment, which missed falls without one);
- ``routed``: ``upright_prelude_only``'s models for candidates whose upright is known,
  ``shipped``'s for the rest (``UprightRouted``).

Every recipe is scored at each ``--rates`` rate on both replays: falls, the slow falls of
old age by code, activity recordings alarmed, and the joined streams' suspicions per hour.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.falls_daily_stream import SLOW_FALLS
from benchmarks.falls_lodo import figures
from detector.falls.features import FEATURE_NAMES, WINDOW_FEATURES
from detector.falls.scoring import UprightRouted
from detector.falls.stream import FallConfig
from eldercare.logs import configure_logging
from evaluation.falls.cross_validation import ScorerFor, cross_validated_scorers, evaluate
from evaluation.falls.replay import Replay, replay, walking_preludes
from evaluation.falls.sisfall import find_trials
from evaluation.falls.training import TRAINING_RATES_HZ

#: A recipe: the replays its models are trained on and the feature columns they use.
Recipe = tuple[list[Replay], tuple[str, ...]]
RECIPES = ("shipped", "upright", "upright_prelude_only", "routed")


def trained(replays: list[Replay]) -> dict[str, Recipe]:
    """Name → (training replays, feature names) of each recipe that fits models."""
    plain = [r for r in replays if not r.prelude and r.rate_hz in TRAINING_RATES_HZ]
    walked = [r for r in replays if r.prelude and r.rate_hz in TRAINING_RATES_HZ]
    return {
        "shipped": (plain, WINDOW_FEATURES),
        "upright": (plain + walked, FEATURE_NAMES),
        "upright_prelude_only": (walked, FEATURE_NAMES),
    }


def routed(known: ScorerFor, unknown: ScorerFor) -> ScorerFor:
    """Each subject's fold models, routed by whether the candidate's upright is known."""
    return lambda subject: UprightRouted(known(subject), unknown(subject))


def scored(
    replays: list[Replay], subjects: list[str], folds: int, rates: list[float], names: list[str]
) -> dict[str, Any]:
    """Every recipe's fold models on both replays at every evaluation rate."""
    refractory = FallConfig().refractory_s
    fitted: dict[str, ScorerFor] = {}
    held_out: list[list[str]] = []

    def fold_models(name: str) -> ScorerFor:
        nonlocal held_out
        if name not in fitted:
            training, features = trained(replays)[name]
            fitted[name], held_out = cross_validated_scorers(training, subjects, folds, features)
        return fitted[name]

    result: dict[str, Any] = {}
    for name in names:
        scorer_for = (
            routed(fold_models("upright_prelude_only"), fold_models("shipped"))
            if name == "routed"
            else fold_models(name)
        )
        rows: dict[str, Any] = {"folds": held_out}
        for rate in rates:
            plain, walked = (
                next(r for r in replays if r.rate_hz == rate and r.prelude == p)
                for p in (False, True)
            )
            alone = figures(evaluate(plain, scorer_for, refractory))
            after = figures(evaluate(walked, scorer_for, refractory))
            for key in ("false_alarms_per_hour", "stream_hours", "stream_false_alarms"):
                after[key] = alone[key]  # the streams are one: they walk as they go
            rows[f"{rate:g}"] = {"without_prelude": alone, "with_prelude": after}
        result[name] = rows
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 20.0])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING", True)
    trials = find_trials(args.data_dir)
    subjects = sorted({t.subject for t in trials})
    rates = sorted({*TRAINING_RATES_HZ, *args.rates}, reverse=True)
    replays = replay(trials, rates, preludes=walking_preludes(trials))
    result = scored(replays, subjects, args.cv, args.rates, args.recipes)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.cv}-fold leave-subjects-out; slow falls = {' '.join(SLOW_FALLS)}")
    for name, rows in result.items():
        for rate in args.rates:
            for how, row in rows[f"{rate:g}"].items():
                print(
                    f"{name:22} {rate:5g} Hz {how:16} falls {row['falls'] - row['missed']}"
                    f"/{row['falls']}  slow {row['slow_falls_detected']}/{row['slow_falls']}  "
                    f"missed {row['missed_by_code']}  adl alarmed {row['adl_alarmed']} "
                    f"{row['alarmed_adl_by_code']}  streams {row['stream_false_alarms']} in "
                    f"{row['stream_hours']} h = {row['false_alarms_per_hour']:.3f}/h"
                )


if __name__ == "__main__":
    main()

"""Leave-one-dataset-out and leave-subjects-out figures over several fall data sets (issue 15).

    python benchmarks/falls_lodo.py sisfall=DIR mobifall=DIR [--rate 50] [--cv 5]
        [--augment K ...] [--thresholds T ...] [--nested INNER] [--veto INNER]
        [--also-rates HZ ...] [--json]

Each ``NAME=DIR`` is a SisFall-format folder (``scripts/convert_falls.py`` writes other sets
that way); subject names must not repeat across sets. Every set is replayed once at the
evaluation rate and the training rates (candidates do not depend on the model), then scored:

- ``lodo``: the model trained (as ``eldercare train falls`` trains: every subject, 200/50/20
  Hz) on all the *other* sets, on this set — a lab, device and placement it never saw;
- ``alone``: ``--cv`` folds of this set's subjects, trained on this set only;
- ``combined``: ``--cv`` folds over the subjects of all sets together, so each subject is
  scored by a model that saw the other sets whole and the other folds of its own set.

For each: sensitivity, specificity, false alarms per hour over each subject's activity
recordings joined into one stream (the suspicions per hour before confirmation), the slow
falls (SisFall's low-energy codes, MobiFall's fall backwards onto a chair, FallAllD's fainting
and sitting falls), and the codes
that were missed or alarmed. The ``lodo`` rows equal ``eldercare eval falls DIR --model M``
with M trained by ``eldercare train falls`` on the other set.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from benchmarks.falls_daily_stream import SLOW_FALLS
from detector.falls.scoring import Scorer
from detector.falls.stream import FallConfig
from eldercare.logs import configure_logging
from evaluation.falls.augment import clipped_replays, softened_replays
from evaluation.falls.cross_validation import ScorerFor, cross_validated_scorers, evaluate
from evaluation.falls.replay import Replay, merged, replay
from evaluation.falls.second_stage import SIZE_FREE_FEATURES, VETOES, Vetoed, veto_thresholds
from evaluation.falls.sisfall import find_trials
from evaluation.falls.threshold import ThresholdChoice, threshold_from_folds
from evaluation.falls.training import TRAINING_RATES_HZ, train

#: FallAllD's fainting and sitting falls (``scripts/convert_falls.py``'s codes: its number
#: − 40): syncope while walking or at a table (A111–A114 → F71–F74), falling while trying to
#: sit down (A115–A120 → F75–F80), fainting from a chair (A129–A131 → F89–F91) and from
#: standing, one sliding down a wall (A132–A135 → F92–F95).
FALLALLD_SLOW_FALLS = tuple(f"F{n}" for n in (*range(71, 81), *range(89, 96)))

#: Low-energy falls of the other sets, counted with SisFall's: MobiFall BSC (backwards while
#: trying to sit on a chair) and FallAllD's.
OTHER_SLOW_FALLS = ("F23", *FALLALLD_SLOW_FALLS)


def everyone_by(scorer: Scorer) -> ScorerFor:
    """One scorer for every subject."""
    return lambda _subject: scorer


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """The figures the LODO table shows, from an ``evaluate`` report."""
    by_code = report["by_code"]
    slow = [c for c in (*SLOW_FALLS, *OTHER_SLOW_FALLS) if c in by_code]
    return {
        "sensitivity": report["sensitivity"],
        "falls": report["tp"] + report["fn"],
        "missed": report["fn"],
        "specificity": report["specificity"],
        "adl": report["fp"] + report["tn"],
        "adl_alarmed": report["fp"],
        "false_alarms_per_hour": report["false_alarms_per_hour"],
        "stream_hours": report["stream_hours"],
        "stream_false_alarms": report["stream_false_alarms"],
        "slow_falls_detected": sum(by_code[c]["alarmed"] for c in slow),
        "slow_falls": sum(by_code[c]["trials"] for c in slow),
        "missed_by_code": {
            c: row["trials"] - row["alarmed"]
            for c, row in by_code.items()
            if c[0] == "F" and row["alarmed"] < row["trials"]
        },
        "alarmed_adl_by_code": {
            c: row["alarmed"] for c, row in by_code.items() if c[0] == "D" and row["alarmed"]
        },
    }


def run(
    sets: dict[str, Path],
    rate_hz: float,
    folds: int,
    augment: Sequence[float] = (),
    thresholds: Sequence[float | None] = (None,),
    inner_folds: int = 0,
    also_rates: Sequence[float] = (),
    clip_g: Sequence[float] = (),
    veto_folds: int = 0,
) -> dict[str, dict[str, Any]]:
    """``{set: {"lodo" | "alone" | "combined": figures}}`` for every set.

    With ``augment``, every model is also trained on copies of its training recordings
    softened by each k (``evaluation.falls.augment``); evaluation is on the recordings as
    they are. Each threshold t other than None adds rows ``"<kind>@t"``: the same models
    deciding at score ≥ t. With ``inner_folds``, rows ``"lodo~nested"`` and ``"alone~nested"``:
    the same models at the threshold each one's own training subjects give by the rule of
    ``evaluation.falls.threshold`` (inner leave-subjects-out folds), never the held-out data.
    With ``clip_g``, every model is also trained on copies of its training recordings with
    each axis clipped at ± each range (a phone's accelerometer: ± 2 g).
    With ``veto_folds``, rows ``"lodo~<veto>"`` and ``"alone~<veto>"`` for each recipe of
    ``evaluation.falls.second_stage.VETOES``: the same models behind a second stage that
    does not see the impact's size, its threshold chosen in ``veto_folds`` inner folds of
    each training set.
    Each rate of ``also_rates`` adds every row again, evaluated at that rate (``"<row>/20Hz"``):
    the models do not depend on the evaluation rate, so they are trained once.
    """
    refractory_s = FallConfig().refractory_s
    evaluation_rates = list(dict.fromkeys([rate_hz, *also_rates]))
    rates = [*evaluation_rates, *(r for r in TRAINING_RATES_HZ if r not in evaluation_rates)]
    # in the order ``eldercare train falls`` uses: the fit (early stopping) sees rows in order
    training_rates = list(TRAINING_RATES_HZ)
    replays: dict[str, list[Replay]] = {}
    softened: dict[str, list[list[Replay]]] = {}  # per set, per k: replays at training_rates
    for name, folder in sets.items():
        trials = find_trials(folder)
        if not trials:
            raise ValueError(f"{name}: no SisFall-format trials below {folder}")
        replays[name] = replay(trials, rates)
        softened[name] = [softened_replays(trials, training_rates, k) for k in augment] + [
            clipped_replays(trials, training_rates, g) for g in clip_g
        ]
    subjects = {
        name: sorted({run.trial.subject for run in rs[0].trials}) for name, rs in replays.items()
    }
    everyone = sorted(s for names in subjects.values() for s in names)
    if len(everyone) != len(set(everyone)):
        raise ValueError("a subject name occurs in two sets")

    def training(names: Sequence[str], augmented: bool = True) -> list[Replay]:
        return [
            merged(
                [replays[n][rates.index(rate)] for n in names]
                + [copies[j] for n in names for copies in softened[n] if augmented]
            )
            for j, rate in enumerate(training_rates)
        ]

    def nested(names: Sequence[str], outer: list[list[str]]) -> tuple[ScorerFor, list[Any]]:
        """Each outer fold's model at the threshold the rule picks inside its training
        subjects (``evaluation.falls.threshold``); ``outer``: the held-out subjects."""
        plain, augmented = training(names, augmented=False), training(names)
        choices: list[ThresholdChoice] = []
        chosen: dict[str, float] = {}
        for held_out in outer:
            inside = sorted({s for n in names for s in subjects[n]} - set(held_out))
            choices.append(
                threshold_from_folds(plain, augmented, inside, inner_folds, refractory_s)
            )
            chosen.update((s, choices[-1].threshold) for s in held_out)
        return chosen.__getitem__, choices

    def vetoed(
        first_for: ScorerFor, names: Sequence[str], outer: list[list[str]], inner: int
    ) -> dict[str, tuple[ScorerFor, list[Any]]]:
        """Per veto recipe: each outer fold's model behind its veto, at the veto threshold
        the rule picks inside the fold's training subjects; and the choices."""
        data = training(names)
        everyone_here = {s for n in names for s in subjects[n]}
        by_veto: dict[str, tuple[dict[str, Scorer], list[Any]]] = {
            veto: ({}, []) for veto in VETOES
        }
        for held_out in outer:
            inside = sorted(everyone_here - set(held_out))
            choices = veto_thresholds(data, inside, inner, refractory_s)
            for veto, choice in choices.items():
                model = train(VETOES[veto](data), set(inside), features=SIZE_FREE_FEATURES)
                scorers, recorded = by_veto[veto]
                recorded.append(asdict(choice))
                for subject in held_out:
                    scorers[subject] = Vetoed(first_for(subject), model, choice.threshold)
        return {veto: (s.__getitem__, c) for veto, (s, c) in by_veto.items()}

    combined_for, _ = cross_validated_scorers(training(list(sets)), everyone, folds)
    results: dict[str, dict[str, Any]] = {}
    for name in sets:
        others = [n for n in sets if n != name]
        lodo_model: Scorer = train(training(others))
        alone_for, alone_folds = cross_validated_scorers(training([name]), subjects[name], folds)
        scorers = {"lodo": everyone_by(lodo_model), "alone": alone_for, "combined": combined_for}
        rows = {
            kind if threshold is None else f"{kind}@{threshold:g}": at_threshold(
                scorer_for, threshold
            )
            for kind, scorer_for in scorers.items()
            for threshold in thresholds
        }
        chosen: dict[str, list[Any]] = {}
        if veto_folds:
            for kind, names, outer in (
                ("lodo", others, [subjects[name]]),
                ("alone", [name], alone_folds),
            ):
                for veto, (scorer_for, choices) in vetoed(
                    scorers[kind], names, outer, veto_folds
                ).items():
                    rows[f"{kind}~{veto}"] = scorer_for
                    chosen[f"{kind}~{veto}"] = choices
        if inner_folds:
            for kind, names, outer in (
                ("lodo", others, [subjects[name]]),
                ("alone", [name], alone_folds),
            ):
                threshold_for, choices = nested(names, outer)
                rows[f"{kind}~nested"] = lambda s, by=scorers[kind], t=threshold_for: replace(
                    by(s), threshold=t(s)
                )
                chosen[f"{kind}~nested"] = [asdict(c) for c in choices]
        results[name] = {}
        for i, rate in enumerate(evaluation_rates):
            suffix = "" if i == 0 else f"/{rate:g}Hz"
            for row, scorer_for in rows.items():
                results[name][row + suffix] = figures(
                    evaluate(replays[name][i], scorer_for, refractory_s)
                )
                if row in chosen:
                    results[name][row + suffix]["thresholds"] = chosen[row]
    return results


def at_threshold(scorer_for: ScorerFor, threshold: float | None) -> ScorerFor:
    """The same models deciding at ``threshold`` (None: their own): compares detectors at
    equal suspicions per hour, not only at the threshold each was shipped with."""
    if threshold is None:
        return scorer_for
    return lambda subject: replace(scorer_for(subject), threshold=threshold)


def _print(results: dict[str, dict[str, Any]]) -> None:
    print(
        "test set  trained on                 sensitivity        specificity        "
        "FA/h (stream h)     slow falls"
    )
    for name, rows in results.items():
        for kind, row in rows.items():
            kind, _, at_rate = kind.partition("/")
            base, _, threshold = kind.partition("@")
            base, _, variant = base.partition("~")
            label = (
                {
                    "lodo": "other sets only",
                    "alone": "own set, other folds",
                    "combined": "all sets, other folds",
                }[base]
                + (f" @{threshold}" if threshold else "")
                + (f" @{variant}" if variant else "")
                + (f" {at_rate}" if at_rate else "")
            )
            print(
                f"{name:9} {label:24} {row['sensitivity']:.4f} ({row['missed']:3} missed) "
                f"{row['specificity']:.4f} ({row['adl_alarmed']:3} fp) "
                f"{row['false_alarms_per_hour']:5.2f} ({row['stream_hours']:.2f} h) "
                f"{row['slow_falls_detected']}/{row['slow_falls']}"
            )
            print(f"{'':9}   missed {row['missed_by_code']}  adl {row['alarmed_adl_by_code']}")
            if variant:
                print(f"{'':9}   thresholds {[c['threshold'] for c in row['thresholds']]}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="NAME=DIR, SisFall-format folders")
    parser.add_argument("--rate", type=float, default=50.0, help="evaluation rate (Hz)")
    parser.add_argument(
        "--also-rates", type=float, nargs="*", default=[], help="every row also at these rates"
    )
    parser.add_argument("--cv", type=int, default=5, help="folds of subjects")
    parser.add_argument(
        "--augment",
        type=float,
        nargs="*",
        default=[],
        help="also train on every recording played k times slower and softer (each k)",
    )
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="*",
        default=[],
        help="also score every model at each of these thresholds (rows kind@t)",
    )
    parser.add_argument(
        "--nested",
        type=int,
        default=0,
        metavar="INNER",
        help="also rows with the threshold chosen in INNER folds of each training set",
    )
    parser.add_argument(
        "--clip-augment",
        type=float,
        nargs="*",
        default=[],
        metavar="G",
        help="also train on every recording clipped at ± G per axis (each G)",
    )
    parser.add_argument(
        "--veto",
        type=int,
        default=0,
        metavar="INNER",
        help="also rows behind a size-free second stage, its threshold from INNER folds",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging()
    sets = {name: Path(folder) for name, _, folder in (s.partition("=") for s in args.sets)}
    if len(sets) < 2:
        parser.error("leave-one-dataset-out needs two sets or more")
    results = run(
        sets,
        args.rate,
        args.cv,
        args.augment,
        [None, *args.thresholds],
        args.nested,
        args.also_rates,
        args.clip_augment,
        args.veto,
    )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)


if __name__ == "__main__":
    main()

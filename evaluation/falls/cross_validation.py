"""Trial-level figures for a replayed data set, and leave-subjects-out cross-validation.

A fall recording counts as detected if the detector alarms anywhere in it; an activity
recording counts as a false positive if it alarms anywhere in it. False alarms per hour
come from each subject's activity recordings played back to back as one stream, which is
closer to a pendant's day than single trials are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from detector.falls.features import WINDOW_FEATURES
from detector.falls.scoring import Scorer
from evaluation.falls.replay import Replay, rescore
from evaluation.falls.training import train

#: Pick the scorer for a subject: one model for all, or each fold's model in CV.
ScorerFor = Callable[[str], Scorer]


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _counts(outcomes: Iterable[tuple[bool, bool]]) -> dict[str, int]:
    counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    for is_fall, alarmed in outcomes:
        key = ("tp" if alarmed else "fn") if is_fall else ("fp" if alarmed else "tn")
        counts[key] += 1
    return counts


def _rates(counts: dict[str, int]) -> dict[str, float | None]:
    tp, fn, fp, tn = counts["tp"], counts["fn"], counts["fp"], counts["tn"]
    precision = _ratio(tp, tp + fp)
    sensitivity = _ratio(tp, tp + fn)
    f1 = (
        2 * precision * sensitivity / (precision + sensitivity)
        if precision and sensitivity
        else None
    )
    return {
        "sensitivity": sensitivity,
        "specificity": _ratio(tn, tn + fp),
        "precision": precision,
        "f1": f1,
        "accuracy": _ratio(tp + tn, tp + tn + fp + fn),
    }


def evaluate(replay: Replay, scorer_for: ScorerFor, refractory_s: float) -> dict[str, Any]:
    """The report for one replay: overall, per code, per subject group and per subject,
    delays, FA/h. Per subject because a detector that works on average can still fail one
    person (DESIGN §4): the group figures hide who."""
    outcomes: list[tuple[str, str, str, bool, bool]] = []  # code, group, subject, fall, alarmed
    delays: list[float] = []
    missed: list[str] = []
    false_positives: list[str] = []
    for run in replay.trials:
        trial = run.trial
        decided = rescore(run.candidates, scorer_for(trial.subject), refractory_s)
        alarms = [c for c in decided if c.alarm]
        outcomes.append((trial.code, trial.group, trial.subject, trial.is_fall, bool(alarms)))
        if trial.is_fall:
            after = [c.decided_at - run.impact_at for c in alarms if c.decided_at >= run.impact_at]
            if after:
                delays.append(min(after))
            if not alarms:
                missed.append(trial.path.name)
        elif alarms:
            false_positives.append(trial.path.name)

    stream_alarms: dict[str, int] = defaultdict(int)
    stream_hours: dict[str, float] = defaultdict(float)
    for stream in replay.streams:
        decided = rescore(stream.candidates, scorer_for(stream.subject), refractory_s)
        for key in ("all", stream.group, stream.subject):
            stream_alarms[key] += sum(c.alarm for c in decided)
            stream_hours[key] += stream.duration_s / 3600

    def false_alarms_per_hour(key: str) -> float | None:
        return _ratio(stream_alarms[key], stream_hours[key])

    counts = _counts((fall, alarmed) for *_, fall, alarmed in outcomes)
    by_code: dict[str, dict[str, Any]] = {}
    for code in sorted({o[0] for o in outcomes}):
        rows = [o for o in outcomes if o[0] == code]
        by_code[code] = {
            "trials": len(rows),
            "alarmed": sum(o[4] for o in rows),
            "alarm_rate": sum(o[4] for o in rows) / len(rows),
        }

    def breakdown(column: int) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for key in sorted({o[column] for o in outcomes}):
            key_counts = _counts((o[3], o[4]) for o in outcomes if o[column] == key)
            table[key] = {
                **key_counts,
                **_rates(key_counts),
                "false_alarms_per_hour": false_alarms_per_hour(key),
                "stream_hours": round(stream_hours[key], 3),
            }
        return table

    return {
        "rate_hz": replay.rate_hz,
        "trials": len(outcomes),
        **counts,
        **_rates(counts),
        "false_alarms_per_hour": false_alarms_per_hour("all"),
        "stream_hours": round(stream_hours["all"], 3),
        "stream_false_alarms": stream_alarms["all"],
        "delay_mean_s": float(np.mean(delays)) if delays else None,
        "delay_p90_s": float(np.percentile(delays, 90)) if delays else None,
        "by_code": by_code,
        "by_group": breakdown(1),
        "by_subject": breakdown(2),
        "missed_falls": missed,
        "false_positive_trials": false_positives,
    }


def cross_validated_scorers(
    training: Iterable[Replay],
    subjects: list[str],
    folds: int,
    features: tuple[str, ...] = WINDOW_FEATURES,
    always: frozenset[str] = frozenset(),
) -> tuple[ScorerFor, list[list[str]]]:
    """One model per fold, each trained without that fold's subjects: who is scored by what.

    Folds are by subject, so no person is ever scored by a model that saw them. ``always``
    (subjects outside ``subjects``: another data set's people added to training) are in
    every fold's training and are never held out, so the folds stay those without them.
    """
    training = list(training)
    splitter = GroupKFold(n_splits=folds)
    by_subject: dict[str, Scorer] = {}
    held_out: list[list[str]] = []
    for train_index, test_index in splitter.split(subjects, groups=subjects):
        model = train(training, {subjects[i] for i in train_index} | always, features=features)
        held_out.append(sorted(subjects[i] for i in test_index))
        for i in test_index:
            by_subject[subjects[i]] = model
    return by_subject.__getitem__, held_out

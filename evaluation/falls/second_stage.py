"""A second, stricter stage after the model's alarm, with its strictness chosen in nested folds.

On another lab's phone (MobiFall: thigh pocket, ± 2 g per axis) the shipped model's false
alarms are stepping into a car and hard sitting, and the falls it misses have clipped peaks:
the impact's size is what it leans on, and a clipped device lies about it. The second stage
is a veto that never sees the impact's size: a classifier on the features that do not lean
on the peak (``SIZE_FREE_FEATURES``: free fall, activity and posture before and after, how
fast the attitude turned). A candidate alarms only if the first model says so *and* the
second stage's score reaches its own threshold.

Two recipes for the veto (``VETOES``): trained on every labelled window, as the first model
is, or on falls against the sitting and lying-down activities only (``SITTING_CODES``: the
hard-sitting / car-entry pattern the docs name).

The veto's threshold is chosen by a rule fixed in advance, inside the training subjects
only: over inner leave-subjects-out folds, at every training rate together, the highest
``VETO_GRID`` threshold at which the two stages together miss at most ``MAX_LOST_FRACTION``
of the inner held-out falls that the first model alone catches (else the lowest). Highest,
because the strictest veto raises the fewest suspicions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detector.falls.scoring import Scorer
from detector.falls.stream import Candidate
from evaluation.falls.cross_validation import ScorerFor, cross_validated_scorers
from evaluation.falls.replay import Replay, rescore
from evaluation.falls.threshold import within

#: The window features that do not depend on the impact's size (no peak, jerk, impact
#: energy or time above 1.6 g), plus the fastest attitude turn around the impact.
SIZE_FREE_FEATURES = (
    "dip_g",
    "free_fall_gs",
    "pre_activity_g",
    "post_activity_g",
    "post_mean_g",
    "post_motion_gps",
    "tilt_deg",
    "settle_deg",
    "turn_rate_dps",
)
#: Sitting down, getting up into a seat and lying down: SisFall D07–D13, MobiFall D27–D29
#: (sitting on a chair, stepping into and out of a car).
SITTING_CODES = frozenset({"D07", "D08", "D09", "D10", "D11", "D12", "D13", "D27", "D28", "D29"})
#: The veto's thresholds the rule may choose from, fixed before any run.
VETO_GRID = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
#: The share of the inner folds' caught falls the veto may give up.
MAX_LOST_FRACTION = 0.001


@dataclass(frozen=True)
class Vetoed:
    """The first scorer's score where the veto's reaches ``veto_threshold``, else 0."""

    first: Scorer
    veto: Scorer
    veto_threshold: float
    threshold: float = 0.5

    def scores(self, features: np.ndarray) -> np.ndarray:
        scores = self.first.scores(features)
        return np.where(self.veto.scores(features) >= self.veto_threshold, scores, 0.0)


def sitting_only(replays: Sequence[Replay]) -> list[Replay]:
    """The replays cut down to falls and the sitting / lying-down activities."""
    return [
        Replay(
            r.rate_hz,
            [run for run in r.trials if run.trial.is_fall or run.trial.code in SITTING_CODES],
            [],
            r.prelude,
        )
        for r in replays
    ]


#: How each veto's training windows are drawn from the training replays.
VETOES = {"veto": list, "sitveto": sitting_only}


@dataclass(frozen=True)
class VetoChoice:
    """The chosen veto threshold and the inner counts it was chosen on."""

    threshold: float
    subjects: tuple[str, ...]
    falls: int  # inner held-out fall recordings (every training rate)
    caught_by_first: int
    caught: dict[float, int]  # with the veto, per grid threshold
    stream_hours: float
    suspicions_first: int
    suspicions: dict[float, int]


def pick_veto(
    caught_by_first: int, caught: dict[float, int], lost: float = MAX_LOST_FRACTION
) -> float:
    """The highest threshold losing at most ``lost`` of the first model's caught falls."""
    allowed = caught_by_first - int(lost * caught_by_first)
    within_budget = [t for t, count in caught.items() if count >= allowed]
    return max(within_budget) if within_budget else min(caught)


def _alarmed(candidates: list[Candidate], scorer: Scorer, refractory_s: float) -> int:
    return sum(c.alarm for c in rescore(candidates, scorer, refractory_s))


def veto_thresholds(
    training: Sequence[Replay],
    subjects: Sequence[str],
    folds: int,
    refractory_s: float,
    vetoes: Sequence[str] = tuple(VETOES),
    grid: Sequence[float] = VETO_GRID,
) -> dict[str, VetoChoice]:
    """Per veto recipe, its threshold by the rule, using ``subjects``' recordings only.

    ``training`` are the training replays (with activity streams); they are cut to
    ``subjects`` first, so nobody the models are judged on can change the choice.
    """
    subjects = sorted(set(subjects))
    training = within(training, subjects)
    first_for, _ = cross_validated_scorers(training, subjects, folds)
    falls = [run for r in training for run in r.trials if run.trial.is_fall]
    streams = [stream for r in training for stream in r.streams]

    def counts(scorer_for: ScorerFor) -> tuple[int, int]:
        caught = sum(
            bool(_alarmed(run.candidates, scorer_for(run.trial.subject), refractory_s))
            for run in falls
        )
        raised = sum(
            _alarmed(stream.candidates, scorer_for(stream.subject), refractory_s)
            for stream in streams
        )
        return caught, raised

    caught_by_first, suspicions_first = counts(first_for)
    choices: dict[str, VetoChoice] = {}
    for name in vetoes:
        veto_for, _ = cross_validated_scorers(
            VETOES[name](training), subjects, folds, features=SIZE_FREE_FEATURES
        )
        per = {t: counts(lambda s, t=t, v=veto_for: Vetoed(first_for(s), v(s), t)) for t in grid}
        caught = {t: c for t, (c, _) in per.items()}
        choices[name] = VetoChoice(
            threshold=pick_veto(caught_by_first, caught),
            subjects=tuple(subjects),
            falls=len(falls),
            caught_by_first=caught_by_first,
            caught=caught,
            stream_hours=round(sum(s.duration_s for s in streams) / 3600, 4),
            suspicions_first=suspicions_first,
            suspicions={t: r for t, (_, r) in per.items()},
        )
    return choices

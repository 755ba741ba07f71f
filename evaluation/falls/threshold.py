"""The decision threshold chosen inside the training data (nested folds), never on held-out data.

A model trained on softened copies (``evaluation.falls.augment``) scores more windows as falls,
so it raises more suspicions at the default 0.5. Reading a stricter threshold off the data it is
judged on would flatter it. Here the threshold is a step of training: a rule fixed in advance,
applied to leave-subjects-out folds *within* the training subjects only.

The rule: over the inner folds, count the suspicions (stream alarms) the plain models — trained
without softened copies — raise at ``DEFAULT_THRESHOLD`` on their held-out subjects' activity
streams, at every training rate together (one threshold serves every device rate). The chosen
threshold is the lowest of ``THRESHOLD_GRID`` at which the augmented models raise no more
suspicions on the same streams. If none does, the grid threshold with the fewest (the lowest on
a tie). Lowest, because the lowest threshold catches the most falls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from evaluation.falls.cross_validation import ScorerFor, cross_validated_scorers
from evaluation.falls.replay import Replay, SubjectStream, rescore
from evaluation.falls.training import DEFAULT_THRESHOLD

#: The thresholds the rule may choose from, fixed before any nested run.
THRESHOLD_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold and what it was chosen on (recorded in the model's header)."""

    threshold: float
    subjects: tuple[str, ...]  # the only subjects whose recordings were used
    stream_hours: float
    reference_suspicions: int  # plain inner models at DEFAULT_THRESHOLD
    suspicions: dict[float, int]  # augmented inner models, per grid threshold


def pick(reference: int, suspicions: dict[float, int]) -> float:
    """The rule on the counts: the lowest threshold not above the reference, else the fewest."""
    within = [t for t, count in suspicions.items() if count <= reference]
    if within:
        return min(within)
    return min(suspicions, key=lambda t: (suspicions[t], t))


def within(replays: Iterable[Replay], subjects: Iterable[str]) -> list[Replay]:
    """The replays cut down to ``subjects``' recordings and streams."""
    keep = set(subjects)
    return [
        Replay(
            r.rate_hz,
            [run for run in r.trials if run.trial.subject in keep],
            [stream for stream in r.streams if stream.subject in keep],
        )
        for r in replays
    ]


def _suspicions(
    streams: Sequence[SubjectStream], scorer_for: ScorerFor, threshold: float, refractory_s: float
) -> int:
    return sum(
        c.alarm
        for stream in streams
        for c in rescore(
            stream.candidates,
            replace(scorer_for(stream.subject), threshold=threshold),
            refractory_s,
        )
    )


def threshold_from_folds(
    plain: Sequence[Replay],
    augmented: Sequence[Replay],
    subjects: Sequence[str],
    folds: int,
    refractory_s: float,
    grid: Sequence[float] = THRESHOLD_GRID,
) -> ThresholdChoice:
    """The threshold for a model trained on ``augmented`` by the rule, using ``subjects` only.

    ``plain`` are the training replays without softened copies, with activity streams
    (``replay(..., continuous=True)``); ``augmented`` the same plus the softened copies. Both
    are cut to ``subjects`` first, so the recordings of anyone else — the people the model will
    be judged on — cannot change the choice.
    """
    subjects = sorted(set(subjects))
    plain, augmented = within(plain, subjects), within(augmented, subjects)
    streams = [stream for r in plain for stream in r.streams]
    plain_for, _ = cross_validated_scorers(plain, subjects, folds)
    augmented_for, _ = cross_validated_scorers(augmented, subjects, folds)
    reference = _suspicions(streams, plain_for, DEFAULT_THRESHOLD, refractory_s)
    counts = {t: _suspicions(streams, augmented_for, t, refractory_s) for t in grid}
    return ThresholdChoice(
        threshold=pick(reference, counts),
        subjects=tuple(subjects),
        stream_hours=round(sum(s.duration_s for s in streams) / 3600, 4),
        reference_suspicions=reference,
        suspicions=counts,
    )

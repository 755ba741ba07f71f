"""Labelled windows from replayed recordings, and the classifier fitted on them.

SisFall marks a file as a fall, not the instant of the fall. The labelled windows are
therefore: in a fall recording, the candidate with the hardest impact (the fall itself);
in an activity recording, every candidate (none of them is a fall). The other candidates
of a fall recording (steps before it, movements after it) are left out rather than
guessed at. Training uses several sampling rates of the same recordings so the model
learns what a fall looks like at 20 Hz as well as at 200 Hz.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from detector.falls.features import FEATURE_NAMES, WINDOW_FEATURES
from detector.falls.scoring import CompiledTrees, FallModel
from detector.falls.stream import FallConfig
from evaluation.falls.replay import Replay, TrialRun

#: Rates the shipped model was trained on: a waist pendant at 200, 50 and 20 Hz.
TRAINING_RATES_HZ = (200.0, 50.0, 20.0)
DEFAULT_THRESHOLD = 0.5


def labelled_windows(runs: Iterable[TrialRun]) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels (1 = fall) for the given replayed trials."""
    rows: list[np.ndarray] = []
    labels: list[int] = []
    for run in runs:
        if not run.candidates:
            continue
        if run.trial.is_fall:
            hardest = max(run.candidates, key=lambda c: c.features[0])
            rows.append(hardest.features)
            labels.append(1)
        else:
            rows.extend(c.features for c in run.candidates)
            labels.extend(0 for _ in run.candidates)
    return np.vstack(rows), np.array(labels)


def fit_classifier(
    features: np.ndarray, labels: np.ndarray, seed: int = 0
) -> HistGradientBoostingClassifier:
    """Gradient-boosted trees: handles missing features (stream starts) and stays small."""
    classifier = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        random_state=seed,
    )
    return classifier.fit(features, labels)


def train(
    replays: Iterable[Replay],
    subjects: set[str] | None = None,
    config: FallConfig | None = None,
    features: tuple[str, ...] = WINDOW_FEATURES,
) -> FallModel:
    """A model from the trials of ``subjects`` (all if None) in every replay given.

    ``features`` picks the stream's feature columns the model uses. Replays after a walking
    prelude (``Replay.prelude``) and without one may be given together: then every trial
    is seen both with the upright known and unknown.
    """
    replays = list(replays)
    columns = [FEATURE_NAMES.index(name) for name in features]
    chosen = [
        [run for run in r.trials if subjects is None or run.trial.subject in subjects]
        for r in replays
    ]
    parts = [labelled_windows(runs) for runs in chosen]
    rows = np.vstack([p[0] for p in parts])[:, columns]
    labels = np.concatenate([p[1] for p in parts])
    used = sorted({run.trial.subject for runs in chosen for run in runs})
    return FallModel(
        trees=CompiledTrees.from_estimator(fit_classifier(rows, labels)),
        threshold=DEFAULT_THRESHOLD,
        config=asdict(config or FallConfig()),
        trained_on={
            "subjects": used,
            "rates_hz": sorted({r.rate_hz for r in replays}, reverse=True),
            "walking_prelude": sorted({r.prelude for r in replays}),
            "windows": len(labels),
            "fall_windows": int(labels.sum()),
        },
        feature_names=features,
    )

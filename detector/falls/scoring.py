"""Who decides whether a candidate impact is a fall: a trained model, or a fixed rule.

The model is a scikit-learn classifier stored with skops (a format that refuses to load
arbitrary objects, unlike pickle): loading checks that every type in the file is one we
expect, so a swapped model file cannot run code in the detector. The threshold rule is
the fallback when no model is available; it is deliberately simple and errs towards
alarming, because the home confirmation step filters what it gets wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from detector.falls.features import FEATURE_NAMES

#: The model shipped inside the package (see docs/falls.md for how it was trained).
BUNDLED_MODEL = "model.skops"

#: Types beyond skops' own safe defaults that a model file may contain; a file holding
#: anything else is refused before any of it is loaded.
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


class Scorer(Protocol):
    """Scores candidate feature rows; a score at or above ``threshold`` is an alarm."""

    threshold: float

    def scores(self, features: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ThresholdRule:
    """Hard impact, then a changed posture and little movement: the classic rule."""

    peak_g: float = 2.0
    tilt_deg: float = 35.0
    post_activity_g: float = 0.2
    threshold: float = 0.5

    def scores(self, features: np.ndarray) -> np.ndarray:
        column = {name: features[:, i] for i, name in enumerate(FEATURE_NAMES)}
        with np.errstate(invalid="ignore"):
            hit = (
                (column["peak_g"] >= self.peak_g)
                & (column["tilt_deg"] >= self.tilt_deg)
                & (column["post_activity_g"] <= self.post_activity_g)
            )
        return hit.astype(float)


class CompiledTrees:
    """A fitted HistGradientBoostingClassifier's trees as flat arrays, walked all at once.

    ``predict_proba`` costs milliseconds per call (a Python loop over trees and an OpenMP
    pool that fights other processes for two cores); a pendant asks for one or two rows at
    a time. Walking every tree for every row in lockstep with numpy gives the same numbers
    (a test checks it against ``predict_proba``) at a fraction of the cost.
    """

    def __init__(self, estimator: Any) -> None:
        trees = [predictors[0].nodes for predictors in estimator._predictors]
        sizes = np.array([len(tree) for tree in trees])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(trees)
        shift = np.repeat(starts, sizes)
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        self.roots = starts
        self.feature = nodes["feature_idx"].astype(np.intp)
        self.threshold = nodes["num_threshold"]
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.left = nodes["left"].astype(np.intp) + shift
        self.right = nodes["right"].astype(np.intp) + shift
        self.is_leaf = nodes["is_leaf"].astype(bool)
        self.value = nodes["value"]
        self.depth = int(nodes["depth"].max())
        self.baseline = float(np.ravel(estimator._baseline_prediction)[0])

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        node = np.tile(self.roots, (len(features), 1))
        rows = np.arange(len(features))[:, None]
        for _ in range(self.depth):
            x = features[rows, self.feature[node]]
            left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            step = np.where(left, self.left[node], self.right[node])
            node = np.where(self.is_leaf[node], node, step)
        raw = self.baseline + self.value[node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))


@dataclass
class FallModel:
    """A trained classifier plus what it needs to be used and trusted."""

    estimator: Any
    threshold: float
    config: dict[str, float]
    trained_on: dict[str, Any] = field(default_factory=dict)
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __post_init__(self) -> None:
        self._compiled = CompiledTrees(self.estimator)

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self._compiled.probabilities(np.asarray(features, dtype=np.float64))

    def save(self, path: Path) -> None:
        import skops.io as sio

        sio.dump(
            {
                "estimator": self.estimator,
                "threshold": self.threshold,
                "config": self.config,
                "trained_on": self.trained_on,
                "feature_names": list(self.feature_names),
            },
            path,
        )

    @classmethod
    def load(cls, path: Path) -> FallModel:
        import skops.io as sio

        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ValueError(f"{path}: refusing unexpected types {sorted(untrusted)}")
        state = sio.load(path, trusted=TRUSTED_TYPES)
        if tuple(state["feature_names"]) != FEATURE_NAMES:
            raise ValueError(f"{path}: trained on other features {state['feature_names']}")
        return cls(
            estimator=state["estimator"],
            threshold=float(state["threshold"]),
            config=dict(state["config"]),
            trained_on=dict(state["trained_on"]),
        )


def bundled_model() -> FallModel | None:
    """The shipped model, or None if this installation has none (the rule takes over)."""
    resource = resources.files("detector.falls").joinpath(BUNDLED_MODEL)
    if not resource.is_file():
        return None
    with resources.as_file(resource) as path:
        return FallModel.load(path)

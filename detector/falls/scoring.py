"""Who decides whether a candidate impact is a fall: a trained model, or a fixed rule.

The model is a scikit-learn gradient-boosting classifier, compiled after training into
plain numeric arrays (its trees) and stored as an ``.npz`` file plus a JSON header. That
is the trust boundary: loading uses ``allow_pickle=False``, so a model file can hold
numbers and text but nothing that runs — a swapped file can make the detector decide
badly, never execute code — and the detector needs neither scikit-learn nor a pickle
reader at run time (it starts in milliseconds instead of seconds). The threshold rule is
the fallback when no model is available; it is deliberately simple and errs towards
alarming, because the home confirmation step filters what it gets wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from detector.falls.features import FEATURE_NAMES, UPRIGHT_FEATURES

#: The model shipped inside the package (see docs/falls.md for how it was trained).
BUNDLED_MODEL = "model.npz"

#: The arrays of a model file, with the kind of numbers each must hold.
_TREE_ARRAYS = {
    "roots": "i",
    "feature": "i",
    "threshold": "f",
    "missing_left": "b",
    "left": "i",
    "right": "i",
    "is_leaf": "b",
    "value": "f",
}


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

    def __init__(
        self, arrays: dict[str, np.ndarray], depth: int, baseline: float, n_features: int
    ) -> None:
        self.arrays = arrays
        self.depth = depth
        self.baseline = baseline
        self.roots = arrays["roots"].astype(np.intp)
        self.feature = arrays["feature"].astype(np.intp)
        self.threshold = arrays["threshold"].astype(np.float64)
        self.missing_left = arrays["missing_left"].astype(bool)
        self.left = arrays["left"].astype(np.intp)
        self.right = arrays["right"].astype(np.intp)
        self.is_leaf = arrays["is_leaf"].astype(bool)
        self.value = arrays["value"].astype(np.float64)
        nodes = len(self.value)
        inner = ~self.is_leaf
        if not (
            all(len(arrays[name]) == nodes for name in _TREE_ARRAYS if name != "roots")
            and np.all((self.roots >= 0) & (self.roots < nodes))
            and np.all((self.left[inner] >= 0) & (self.left[inner] < nodes))
            and np.all((self.right[inner] >= 0) & (self.right[inner] < nodes))
            and np.all((self.feature[inner] >= 0) & (self.feature[inner] < n_features))
        ):
            raise ValueError("tree arrays are inconsistent")

    @classmethod
    def from_estimator(cls, estimator: Any) -> CompiledTrees:
        """The trees of a fitted binary ``HistGradientBoostingClassifier``."""
        trees = [predictors[0].nodes for predictors in estimator._predictors]
        sizes = np.array([len(tree) for tree in trees])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(trees)
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        shift = np.repeat(starts, sizes)
        arrays = {
            "roots": starts.astype(np.int64),
            "feature": nodes["feature_idx"].astype(np.int64),
            "threshold": nodes["num_threshold"].astype(np.float64),
            "missing_left": nodes["missing_go_to_left"].astype(bool),
            "left": nodes["left"].astype(np.int64) + shift,
            "right": nodes["right"].astype(np.int64) + shift,
            "is_leaf": nodes["is_leaf"].astype(bool),
            "value": nodes["value"].astype(np.float64),
        }
        baseline = float(np.ravel(estimator._baseline_prediction)[0])
        return cls(arrays, int(nodes["depth"].max()), baseline, int(estimator.n_features_in_))

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
    """A trained classifier plus what it needs to be used and trusted.

    ``feature_names`` are the stream's features (``FEATURE_NAMES``) the trees were fitted
    on, in their column order: a model trained before the upright features existed keeps
    working on the stream's longer rows.
    """

    trees: CompiledTrees
    threshold: float
    config: dict[str, float]
    trained_on: dict[str, Any] = field(default_factory=dict)
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def __post_init__(self) -> None:
        unknown = set(self.feature_names) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"trained on features the stream does not compute: {unknown}")
        self._columns = np.array([FEATURE_NAMES.index(n) for n in self.feature_names])

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Scores for the stream's feature rows (every ``FEATURE_NAMES`` column)."""
        rows = np.asarray(features, dtype=np.float64)
        return self.trees.probabilities(rows[:, self._columns])

    def save(self, path: Path) -> None:
        header = {
            "format": "eldercare-falls-trees/1",
            "feature_names": list(self.feature_names),
            "threshold": self.threshold,
            "depth": self.trees.depth,
            "baseline": self.trees.baseline,
            "config": self.config,
            "trained_on": self.trained_on,
        }
        with path.open("wb") as handle:  # keeps the name exactly as given (no ".npz" added)
            np.savez_compressed(handle, header=np.array(json.dumps(header)), **self.trees.arrays)

    @classmethod
    def load(cls, path: Path) -> FallModel:
        """Read a model file; anything but the expected numeric arrays is refused."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                header = json.loads(str(stored["header"]))
                arrays = {name: stored[name] for name in _TREE_ARRAYS}
        except (ValueError, KeyError, OSError) as error:
            raise ValueError(f"{path}: refusing model file: {error}") from None
        if header.get("format") != "eldercare-falls-trees/1":
            raise ValueError(f"{path}: refusing model file: unknown format")
        for name, kind in _TREE_ARRAYS.items():
            if arrays[name].ndim != 1 or arrays[name].dtype.kind != kind:
                raise ValueError(f"{path}: refusing model file: {name} is not a {kind} vector")
        names = tuple(header["feature_names"])
        if not set(names) <= set(FEATURE_NAMES) or len(set(names)) != len(names):
            raise ValueError(f"{path}: trained on other features {header['feature_names']}")
        trees = CompiledTrees(arrays, int(header["depth"]), float(header["baseline"]), len(names))
        return cls(
            trees,
            float(header["threshold"]),
            dict(header["config"]),
            header["trained_on"],
            names,
        )


@dataclass(frozen=True)
class UprightRouted:
    """Two scorers: one for candidates whose upright the stream knows, one for the rest.

    A model trained only on trials that followed a walk leans on the upright features and
    misses falls from a chair when they are unknown; one model trained both ways gives up
    the gain. Routing keeps each where it was trained: a candidate with an unknown upright
    (a pendant put on while seated, a detector restart) is scored exactly as without the
    upright features.
    """

    known: Scorer
    unknown: Scorer
    threshold: float = 0.5

    def scores(self, features: np.ndarray) -> np.ndarray:
        rows = np.asarray(features, dtype=np.float64)
        known = ~np.isnan(rows[:, FEATURE_NAMES.index("upright_post_deg")])
        out = np.empty(len(rows))
        if known.any():
            out[known] = self.known.scores(rows[known])
        if not known.all():
            out[~known] = self.unknown.scores(rows[~known])
        return out


def uses_upright(scorer: Scorer) -> bool:
    """Whether ``scorer`` looks at the upright features (else the stream need not learn it)."""
    if isinstance(scorer, UprightRouted):
        return True
    names = scorer.feature_names if isinstance(scorer, FallModel) else ()
    return any(name in UPRIGHT_FEATURES for name in names)


def bundled_model() -> FallModel | None:
    """The shipped model, or None if this installation has none (the rule takes over)."""
    resource = resources.files("detector.falls").joinpath(BUNDLED_MODEL)
    if not resource.is_file():
        return None
    with resources.as_file(resource) as path:
        return FallModel.load(path)

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

#: The only types a model file may contain (anything else is refused before loading).
TRUSTED_TYPES = [
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "collections.OrderedDict",
]


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


@dataclass
class FallModel:
    """A trained classifier plus what it needs to be used and trusted."""

    estimator: Any
    threshold: float
    config: dict[str, float]
    trained_on: dict[str, Any] = field(default_factory=dict)
    feature_names: tuple[str, ...] = FEATURE_NAMES

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(features)[:, 1]

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

"""The rate-loss diagnosis puts the falls a lower rate loses on the feature that lost them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import falls_rate_loss
from detector.falls.features import FEATURE_NAMES
from tests.falls_support import synthetic_lab

JERK = FEATURE_NAMES.index("jerk_gps")


@dataclass(frozen=True)
class SharpImpacts:
    """Alarms on an abrupt change only: 20 Hz block means blunt the knocks below it."""

    threshold: float = 0.5

    def scores(self, features: np.ndarray) -> np.ndarray:
        return (features[:, JERK] >= 90.0).astype(float)


def test_falls_lost_at_the_lower_rate_come_back_with_the_feature_that_lost_them(
    tmp_path: Path,
) -> None:
    lab = synthetic_lab(tmp_path / "lab", ["SA01", "SA02"], seed=3)
    results = falls_rate_loss.run(lab, SharpImpacts(), high_hz=50.0, low_hz=20.0)
    assert results["falls"] == results["alarmed_high"] == 8
    assert results["lost_at_low"] == 8 - results["alarmed_low"] > 0
    restored = {name: row["restored"] for name, row in results["by_feature"].items()}
    assert restored.pop("jerk_gps") == results["lost_at_low"]
    assert set(restored.values()) == {0}

"""Softened copies for training (evaluation/falls/augment.py) and replaying them."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest

from evaluation.falls.augment import soften
from evaluation.falls.replay import replay
from evaluation.falls.sisfall import SISFALL_RATE_HZ, find_trials
from scripts.convert_falls import write_sisfall

RATE = SISFALL_RATE_HZ


def _fall(seconds: float = 12.0) -> np.ndarray:
    """Upright and still, a 60 ms impact of 3 g at 4 s, then lying still on the side."""
    n = int(seconds * RATE)
    samples = np.tile([0.0, 0.0, 1.0], (n, 1))
    impact = int(4.0 * RATE)
    samples[impact:] = [1.0, 0.0, 0.0]
    samples[impact : impact + 12, 0] += 3.0
    return samples


def test_k_one_changes_nothing() -> None:
    samples = _fall()
    np.testing.assert_allclose(soften(samples, RATE, 1.0), samples, atol=1e-6)


@pytest.mark.parametrize("k", [1.5, 2.0])
def test_slower_and_softer_but_gravity_kept(k: float) -> None:
    samples = _fall()
    softened = soften(samples, RATE, k)
    assert len(softened) == round(len(samples) * k)
    svm = np.linalg.norm(softened, axis=1)
    # still before and lying still after: 1 g, in the same directions, k times later
    np.testing.assert_allclose(svm[: int(3.0 * RATE * k)], 1.0, atol=1e-6)
    lying = softened[-int(2.0 * RATE) :]
    np.testing.assert_allclose(lying, np.broadcast_to([1.0, 0.0, 0.0], lying.shape), atol=1e-6)
    # the impact's own acceleration (peak minus gravity) shrinks by about k²
    original_peak = np.linalg.norm(samples, axis=1).max() - 1.0
    assert svm.max() - 1.0 == pytest.approx(original_peak / k**2, rel=0.2)


def test_only_slower_copies() -> None:
    with pytest.raises(ValueError, match="slower"):
        soften(_fall(), RATE, 0.8)


def test_replay_plays_the_transformed_recording(tmp_path: Path) -> None:
    write_sisfall(tmp_path / "SA01" / "F01_SA01_R01.txt.gz", _fall())
    trials = find_trials(tmp_path)
    [plain] = replay(trials, [50.0], continuous=False)
    [slow] = replay(
        trials, [50.0], continuous=False, transform=partial(soften, rate_hz=RATE, k=2.0)
    )
    assert [round(c.impact_at) for c in plain.trials[0].candidates] == [4]
    assert plain.trials[0].duration_s == pytest.approx(12.0, abs=0.01)
    assert slow.trials[0].duration_s == pytest.approx(24.0, abs=0.01)
    # 4 g peak becomes 1.75 g: still a candidate, at twice the time
    assert [round(c.impact_at) for c in slow.trials[0].candidates] == [8]

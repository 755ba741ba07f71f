"""SisFall-format recordings scored as a smaller-range device records them (falls_clipped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks import falls_clipped
from evaluation.falls.augment import clip_axes, clipped_replays
from evaluation.falls.replay import replay
from evaluation.falls.sisfall import find_trials
from tests.falls_support import synthetic_lab


def test_clipping_saturates_each_axis_on_its_own() -> None:
    samples = np.array([[0.5, -3.0, 2.5], [1.0, 0.0, -1.0]])
    np.testing.assert_array_equal(clip_axes(samples, 2.0), [[0.5, -2.0, 2.0], [1.0, 0.0, -1.0]])


def test_the_same_fold_models_score_the_recordings_as_recorded_and_clipped(
    tmp_path: Path,
) -> None:
    # Falls: a ~2.5 g knock on one axis, then lying. Clipped at ±1.2 g the knock's magnitude
    # stays below the 1.6 g candidate threshold, so nothing can be detected any more.
    lab = synthetic_lab(tmp_path / "lab", ["SA01", "SA02", "SA03"], seed=1)
    results = falls_clipped.run(lab, range_g=1.2, rate_hz=50.0, folds=3)
    assert (results["as_recorded"]["missed"], results["as_recorded"]["falls"]) == (0, 12)
    assert (results["clipped"]["missed"], results["clipped"]["falls"]) == (12, 12)
    wide = falls_clipped.run(lab, range_g=16.0, rate_hz=50.0, folds=3)
    assert wide["clipped"] == wide["as_recorded"]


def test_a_device_with_another_gain_is_the_recordings_scaled_before_they_saturate(
    tmp_path: Path,
) -> None:
    # Read at half their size, the knocks (|a| 2.2-3.2 g) stay below the 1.6 g candidates.
    lab = synthetic_lab(tmp_path / "lab", ["SA01", "SA02", "SA03"], seed=1)
    half = falls_clipped.run(lab, range_g=16.0, rate_hz=50.0, folds=3, gain=0.5)
    assert (half["as_recorded"]["missed"], half["clipped"]["missed"]) == (0, 12)
    samples = np.array([[0.5, -3.0, 2.5]])
    read = falls_clipped.as_device_reads(samples, range_g=2.0, gain=1.1)
    np.testing.assert_allclose(read, [[0.55, -2.0, 2.0]])


def test_clipped_training_copies_are_the_recordings_as_a_smaller_device_gives_them(
    tmp_path: Path,
) -> None:
    trials = find_trials(synthetic_lab(tmp_path / "lab", ["SA01"], seed=2))
    plain = replay(trials, [50.0], continuous=False)[0]
    narrow = clipped_replays(trials, [50.0], range_g=1.2)[0]
    wide = clipped_replays(trials, [50.0], range_g=16.0)[0]
    assert sum(len(run.candidates) for run in plain.trials) > 0
    assert all(not run.candidates for run in narrow.trials)  # no knock reaches 1.6 g
    assert [len(r.candidates) for r in wide.trials] == [len(r.candidates) for r in plain.trials]

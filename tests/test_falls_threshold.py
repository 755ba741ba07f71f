"""The decision threshold chosen in inner folds of the training subjects only
(evaluation/falls/threshold.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from detector.falls.scoring import FallModel
from eldercare.app.cli import app
from evaluation.falls.augment import with_softened
from evaluation.falls.replay import replay
from evaluation.falls.sisfall import SISFALL_RATE_HZ, find_trials
from evaluation.falls.threshold import (
    THRESHOLD_GRID,
    ThresholdChoice,
    pick,
    threshold_from_folds,
)
from evaluation.falls.training import TRAINING_RATES_HZ
from scripts.convert_falls import write_sisfall

RATE = SISFALL_RATE_HZ
INSIDE = ["SA01", "SA02", "SA03", "SA04"]


def _recording(rng: np.random.Generator, lying_after: bool) -> np.ndarray:
    """12 s upright with knocks of random size at 4 s and 8 s; ``lying_after``: lying from 4 s."""
    n = int(12 * RATE)
    samples = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.02, (n, 3))
    for at in (4.0, 8.0):
        start = int(at * RATE)
        samples[start : start + 12, 0] += rng.uniform(1.0, 3.0)
    if lying_after:
        samples[int(4.0 * RATE) + 12 :, :] = [1.0, 0.0, 0.0]
    return samples


def _write(root: Path, subject: str, rng: np.random.Generator, inverted: bool) -> None:
    for trial in range(1, 4):
        for code, lying in (("F01", not inverted), ("D01", inverted)):
            path = root / subject / f"{code}_{subject}_R{trial:02d}.txt.gz"
            write_sisfall(path, _recording(rng, lying))


def _choice(root: Path) -> ThresholdChoice:
    trials = find_trials(root)
    plain = replay(trials, [50.0])
    augmented = with_softened(trials, plain, [1.25])
    return threshold_from_folds(plain, augmented, INSIDE, folds=2, refractory_s=10.0)


def test_the_rule_takes_the_lowest_threshold_within_the_plain_models_suspicions() -> None:
    assert pick(3, {0.5: 7, 0.6: 4, 0.7: 3, 0.8: 1, 0.9: 0}) == 0.7
    assert pick(3, {0.5: 2, 0.6: 1}) == 0.5
    # none within: the fewest, the lowest threshold on a tie
    assert pick(0, {0.5: 5, 0.6: 2, 0.7: 2}) == 0.6


def test_the_held_out_people_cannot_change_the_chosen_threshold(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    # the same training people in both; the held-out people of "b" are another lab with
    # opposite labels, and one more of them
    for subject in INSIDE:
        _write(tmp_path / "a", subject, rng, inverted=False)
        (tmp_path / "b" / subject).mkdir(parents=True)
        for trial_path in (tmp_path / "a" / subject).iterdir():
            (tmp_path / "b" / subject / trial_path.name).write_bytes(trial_path.read_bytes())
    _write(tmp_path / "a", "SA05", rng, inverted=False)
    _write(tmp_path / "b", "SA05", rng, inverted=True)
    _write(tmp_path / "b", "SA06", rng, inverted=True)

    first, second = _choice(tmp_path / "a"), _choice(tmp_path / "b")
    assert first.subjects == tuple(INSIDE)
    assert first.threshold in THRESHOLD_GRID
    assert set(first.suspicions) == set(THRESHOLD_GRID)
    assert first.stream_hours == round(4 * 3 * 12 / 3600, 4)  # the four insiders' streams only
    assert second == first


def test_train_falls_stores_the_threshold_chosen_in_folds(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for subject in INSIDE:
        _write(tmp_path / "data", subject, rng, inverted=False)
    out = tmp_path / "model.npz"
    args = ["train", "falls", str(tmp_path / "data"), "--out", str(out), "--augment", "1.25"]
    result = CliRunner().invoke(app, [*args, "--threshold-from-folds", "2"])
    assert result.exit_code == 0, result.output
    model = FallModel.load(out)
    trials = find_trials(tmp_path / "data")
    plain = replay(trials, TRAINING_RATES_HZ)
    expected = threshold_from_folds(
        plain, with_softened(trials, plain, [1.25]), INSIDE, folds=2, refractory_s=10.0
    )
    assert model.threshold == expected.threshold
    assert model.trained_on["augment"] == [1.25]
    recorded = model.trained_on["threshold_from_folds"]
    assert recorded["reference_suspicions"] == expected.reference_suspicions
    assert recorded["suspicions"] == {f"{t:g}": n for t, n in expected.suspicions.items()}
    assert out.stat().st_size <= 1_000_000

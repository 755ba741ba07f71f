"""Training copies at other sensor gains, and the shipping rule (falls_gain_augment.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import falls_gain_augment
from evaluation.falls.augment import at_gain, gained_replays
from evaluation.falls.replay import replay
from evaluation.falls.sisfall import find_trials
from scripts.convert_falls import write_sisfall
from tests.falls_support import synthetic_lab, synthetic_recording


def test_a_gain_scales_every_axis() -> None:
    samples = np.array([[0.5, -3.0, 2.5], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(at_gain(samples, 1.1), [[0.55, -3.3, 2.75], [0.0, 0.0, 1.1]])


def test_gain_copies_are_the_recordings_as_that_sensor_reads_them(tmp_path: Path) -> None:
    # The synthetic knocks peak at 2.2-3.2 g: read at half gain none reaches 1.6 g.
    trials = find_trials(synthetic_lab(tmp_path / "lab", ["SA01"], seed=2))
    plain = replay(trials, [50.0], continuous=False)[0]
    same = gained_replays(trials, [50.0], 1.0)[0]
    half = gained_replays(trials, [50.0], 0.5)[0]
    assert sum(len(run.candidates) for run in plain.trials) > 0
    for a, b in zip(plain.trials, same.trials, strict=True):
        np.testing.assert_allclose(
            [c.features for c in a.candidates], [c.features for c in b.candidates], atol=1e-5
        )
    assert all(not run.candidates for run in half.trials)


def _row(missed: int, suspicions: int) -> dict[str, int]:
    return {"missed": missed, "stream_false_alarms": suspicions}


def test_the_rule_asks_for_no_fewer_falls_and_no_more_suspicions_everywhere() -> None:
    rows = ("sisfall@50", "other@50", "sisfall@20", "other@20")
    shipped = {row: _row(5, 3) for row in rows}
    assert falls_gain_augment.passes(shipped, shipped, [50.0, 20.0])
    better = {row: _row(4, 2) for row in rows}
    assert falls_gain_augment.passes(shipped, better, [50.0, 20.0])
    for row in rows:
        assert not falls_gain_augment.passes(shipped, {**better, row: _row(6, 0)}, [50.0, 20.0])
        assert not falls_gain_augment.passes(shipped, {**better, row: _row(0, 4)}, [50.0, 20.0])


def test_each_row_is_scored_by_the_models_it_names(tmp_path: Path) -> None:
    # The other lab's labels are the opposite: the model trained on all of the first lab gets
    # every one of its recordings wrong; the first lab's held-out people get every one right,
    # and read at half gain lose every fall (no candidate left).
    lab = synthetic_lab(tmp_path / "one", ["SA01", "SA02", "SA03"], seed=1)
    other = synthetic_lab(tmp_path / "two", ["MF01", "MF02"], seed=2, inverted=True)
    results = falls_gain_augment.run(lab, other, [[0.9, 1.1]], [50.0], folds=3, read_as=[0.5])
    assert list(results) == ["shipped", "+gain 0.9,1.1"]
    for rows in results.values():
        assert (rows["sisfall@50"]["missed"], rows["sisfall@50"]["adl_alarmed"]) == (0, 0)
        assert (rows["other@50"]["missed"], rows["other@50"]["adl_alarmed"]) == (8, 8)
        assert rows["sisfall×0.5@50"]["missed"] == 12
        assert rows["passes"]


def test_extra_activities_train_every_fold_and_are_never_scored(tmp_path: Path) -> None:
    # Another set's "activities" that are the first lab's falls, six times as many: a
    # model that sees them misses (nearly) every fall. Every fold's model must see them (the
    # held-out people lose their falls; without them, none) and none of them is scored (only
    # the lab's 12 falls and 12 activities are).
    lab = synthetic_lab(tmp_path / "one", ["SA01", "SA02", "SA03"], seed=1)
    other = synthetic_lab(tmp_path / "two", ["MF01"], seed=2)
    rng = np.random.default_rng(3)
    extra = tmp_path / "hapt"
    for subject in ("HA01", "HA02", "HA03"):
        for trial in range(1, 17):
            path = extra / subject / f"D52_{subject}_R{trial:02d}.txt.gz"
            write_sisfall(path, synthetic_recording(rng, fall=True))
    models = tmp_path / "models"
    results = falls_gain_augment.run(
        lab, other, [], [50.0], folds=3, read_as=[], extra_adl=[extra], models_to=models
    )
    assert list(results) == ["shipped", "+adl hapt"]
    assert results["shipped"]["sisfall@50"]["missed"] == 0
    assert results["+adl hapt"]["sisfall@50"]["missed"] >= 10
    assert (
        results["+adl hapt"]["sisfall@50"]["falls"],
        results["+adl hapt"]["sisfall@50"]["adl"],
    ) == (12, 12)
    assert results["+adl hapt"]["other@50"]["missed"] >= 3
    assert not results["+adl hapt"]["passes"]
    assert sorted(p.name for p in models.iterdir()) == ["adl-hapt.npz", "shipped.npz"]


def test_an_extra_folder_with_a_fall_is_refused(tmp_path: Path) -> None:
    lab = synthetic_lab(tmp_path / "one", ["HA01"], seed=1)
    with pytest.raises(ValueError, match="activity recordings only"):
        falls_gain_augment.adl_replays(lab, [50.0])

"""The size-free second stage and its threshold chosen in nested folds
(evaluation/falls/second_stage.py, ``benchmarks/falls_lodo.py --veto``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from benchmarks import falls_lodo
from detector.falls.features import FEATURE_NAMES
from evaluation.falls.replay import replay
from evaluation.falls.second_stage import (
    SIZE_FREE_FEATURES,
    VETO_GRID,
    Vetoed,
    pick_veto,
    veto_thresholds,
)
from tests.falls_support import synthetic_lab

INSIDE = ["SA01", "SA02", "SA03", "SA04"]


@dataclass(frozen=True)
class _Column:
    """Scores one feature column as it is (a stand-in model)."""

    name: str
    threshold: float = 0.5

    def scores(self, features: np.ndarray) -> np.ndarray:
        return features[:, FEATURE_NAMES.index(self.name)]


def test_the_rule_takes_the_strictest_veto_within_the_lost_falls_budget() -> None:
    caught = {0.01: 1000, 0.05: 1000, 0.1: 999, 0.2: 998, 0.5: 900}
    assert pick_veto(1000, caught) == 0.1  # one of 1000 may go
    assert pick_veto(1000, caught, lost=0.0) == 0.05
    assert pick_veto(1000, {0.01: 990, 0.5: 10}) == 0.01  # none within: the mildest


def test_the_veto_silences_only_what_its_own_score_rejects() -> None:
    rows = np.zeros((3, len(FEATURE_NAMES)))
    rows[:, FEATURE_NAMES.index("peak_g")] = [0.9, 0.9, 0.2]
    rows[:, FEATURE_NAMES.index("tilt_deg")] = [0.8, 0.1, 0.8]
    assert "peak_g" not in SIZE_FREE_FEATURES and "tilt_deg" in SIZE_FREE_FEATURES
    vetoed = Vetoed(_Column("peak_g"), _Column("tilt_deg"), veto_threshold=0.5)
    np.testing.assert_array_equal(vetoed.scores(rows), [0.9, 0.0, 0.2])
    everything = Vetoed(_Column("peak_g"), _Column("tilt_deg"), veto_threshold=0.0)
    np.testing.assert_array_equal(everything.scores(rows), rows[:, 0])


def test_the_held_out_people_cannot_change_the_veto_threshold(tmp_path: Path) -> None:
    synthetic_lab(tmp_path / "a", [*INSIDE, "SA05"], seed=4)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "b" / "SA05")  # the held-out people of "b": another lab,
    synthetic_lab(tmp_path / "b", ["SA05", "SA06"], seed=5, inverted=True)  # labels swapped

    def choice(root: Path) -> object:
        plain = replay(root, [50.0])
        return veto_thresholds(plain, INSIDE, folds=2, refractory_s=10.0, vetoes=("veto",))

    first = choice(tmp_path / "a")["veto"]
    assert first.subjects == tuple(INSIDE)
    assert first.threshold in VETO_GRID and set(first.caught) == set(VETO_GRID)
    assert first.falls == 4 * 4  # the insiders' falls only
    assert first.stream_hours == round(4 * 4 * 12 / 3600, 4)
    assert choice(tmp_path / "b")["veto"] == first


@pytest.mark.slow
@pytest.mark.timeout(1100)
def test_lodo_rows_behind_the_veto_are_chosen_inside_each_training_set(tmp_path: Path) -> None:
    sets = {
        "one": synthetic_lab(tmp_path / "one", ["SA01", "SA02", "SA03", "SA04"], seed=1),
        "two": synthetic_lab(tmp_path / "two", ["MF01", "MF02", "MF03", "MF04"], seed=2),
    }
    results = falls_lodo.run(sets, 50.0, folds=2, veto_folds=2)
    for name, rows in results.items():
        scored = {p.name for p in sets[name].iterdir()}
        for veto in ("veto", "sitveto"):
            for kind, outer_folds in (("lodo", 1), ("alone", 2)):
                row = rows[f"{kind}~{veto}"]
                assert len(row["thresholds"]) == outer_folds
                assert (row["falls"], row["adl"]) == (16, 16)
                for choice in row["thresholds"]:
                    assert choice["threshold"] in VETO_GRID
                    if kind == "lodo":  # chosen on the other set's people only
                        assert not scored & set(choice["subjects"])
        # behind a veto that lets falls through, the clean lab's own falls are all found
        assert rows["alone~veto"]["sensitivity"] == rows["alone"]["sensitivity"] == 1.0

"""Leave-one-dataset-out over two synthetic SisFall-format sets (benchmarks/falls_lodo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import falls_lodo
from evaluation.falls.threshold import THRESHOLD_GRID
from tests.falls_support import synthetic_lab


def test_each_set_is_scored_by_the_models_the_table_names(tmp_path: Path) -> None:
    sets = {
        "one": synthetic_lab(tmp_path / "one", ["SA01", "SA02", "SA03"], seed=1),
        "two": synthetic_lab(tmp_path / "two", ["MF01", "MF02", "MF03"], seed=2, inverted=True),
    }
    results = falls_lodo.run(sets, 50.0, folds=3, thresholds=(None, 1.01))
    assert set(results) == {"one", "two"}
    for rows in results.values():
        assert set(rows) == {
            "lodo",
            "alone",
            "combined",
            "lodo@1.01",
            "alone@1.01",
            "combined@1.01",
        }
        # no score reaches 1.01: the same models at that threshold alarm on nothing
        for kind in ("lodo@1.01", "alone@1.01", "combined@1.01"):
            assert (rows[kind]["sensitivity"], rows[kind]["specificity"]) == (0.0, 1.0)
        for row in rows.values():
            assert (row["falls"], row["adl"]) == (12, 12)
            assert row["stream_hours"] == pytest.approx(3 * 4 * 12 / 3600, abs=1e-3)
        # trained on its own lab's other people: every recording right
        assert (rows["alone"]["sensitivity"], rows["alone"]["specificity"]) == (1.0, 1.0)
        # trained on the other lab only, whose labels are the opposite: every recording wrong
        assert (rows["lodo"]["sensitivity"], rows["lodo"]["specificity"]) == (0.0, 0.0)
        assert rows["lodo"]["missed_by_code"] == {"F01": 12}
        assert rows["lodo"]["alarmed_adl_by_code"] == {"D01": 12}


def test_a_person_in_two_sets_is_refused(tmp_path: Path) -> None:
    sets = {
        "one": synthetic_lab(tmp_path / "one", ["SA01", "SA02"], seed=1),
        "two": synthetic_lab(tmp_path / "two", ["SA02", "MF01"], seed=2),
    }
    with pytest.raises(ValueError, match="two sets"):
        falls_lodo.run(sets, 50.0, folds=2)


def test_nested_rows_decide_at_thresholds_chosen_inside_each_training_set(tmp_path: Path) -> None:
    sets = {
        "one": synthetic_lab(tmp_path / "one", ["SA01", "SA02", "SA03", "SA04"], seed=1),
        "two": synthetic_lab(tmp_path / "two", ["MF01", "MF02", "MF03", "MF04"], seed=2),
    }
    results = falls_lodo.run(
        sets, 50.0, folds=2, augment=(1.25,), inner_folds=2, also_rates=(20.0,)
    )
    for name, rows in results.items():
        for kind, outer_folds in (("lodo", 1), ("alone", 2)):
            row = rows[f"{kind}~nested"]
            assert len(row["thresholds"]) == outer_folds
            for choice in row["thresholds"]:
                assert choice["threshold"] in THRESHOLD_GRID
                # chosen only on training subjects: never one the row scores
                scored = set(sets[name].iterdir()) if kind == "lodo" else set()
                assert not {p.name for p in scored} & set(choice["subjects"])
            assert (row["falls"], row["adl"]) == (16, 16)
            # one choice per training set, whatever rate the row is evaluated at
            assert rows[f"{kind}~nested/20Hz"]["thresholds"] == row["thresholds"]


def test_fallalld_fainting_and_sitting_falls_count_as_slow_falls() -> None:
    # a fall from a chair when fainting (A130 → F90) and one trying to sit (A117 → F77) are
    # slow falls; a slip while jogging (A123 → F83) is not
    by_code = {
        "F90": {"trials": 4, "alarmed": 3},
        "F77": {"trials": 5, "alarmed": 5},
        "F83": {"trials": 17, "alarmed": 17},
    }
    report = {
        "by_code": by_code,
        "sensitivity": 25 / 26,
        "tp": 25,
        "fn": 1,
        "specificity": 1.0,
        "fp": 0,
        "tn": 0,
        "false_alarms_per_hour": 0.0,
        "stream_hours": 0.0,
        "stream_false_alarms": 0,
    }
    row = falls_lodo.figures(report)
    assert (row["slow_falls_detected"], row["slow_falls"]) == (8, 9)

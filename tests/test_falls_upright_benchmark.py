"""benchmarks/falls_upright.py: every recipe scored on both replays by the folds it names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks import falls_upright
from detector.falls.features import FEATURE_NAMES
from evaluation.falls.replay import replay, walking_preludes
from evaluation.falls.sisfall import SISFALL_RATE_HZ, find_trials
from scripts.convert_falls import write_sisfall
from tests.falls_support import synthetic_lab

SUBJECTS = ["SA01", "SA02", "SA03"]
TRIAL_KEYS = ("falls", "missed", "adl", "adl_alarmed", "missed_by_code", "alarmed_adl_by_code")


def _walking(seconds: float = 12.0) -> np.ndarray:
    """Upright, the magnitude swinging ± 0.2 g twice a second: steps."""
    t = np.arange(round(seconds * SISFALL_RATE_HZ)) / SISFALL_RATE_HZ
    samples = np.tile([0.0, 0.0, 1.0], (len(t), 1))
    samples[:, 2] += 0.2 * np.sin(2 * np.pi * 2.0 * t)
    return samples


def test_routing_scores_trials_without_an_upright_as_the_window_model_does(
    tmp_path: Path,
) -> None:
    """The synthetic lab's trials stand and knock, never walk: alone, no upright is known,
    so the routed recipe must decide every trial as the shipped one; after the prelude
    (a walk of its own, D02) every trial is scored too, by the same folds."""
    root = synthetic_lab(tmp_path, SUBJECTS, seed=4)
    for subject in SUBJECTS:
        write_sisfall(root / subject / f"D02_{subject}_R01.txt.gz", _walking())
    trials = find_trials(root)
    replays = replay(trials, [200.0, 50.0, 20.0], preludes=walking_preludes(trials, code="D02"))
    assert [(r.rate_hz, r.prelude) for r in replays] == [
        (200.0, False),
        (50.0, False),
        (20.0, False),
        (200.0, True),
        (50.0, True),
        (20.0, True),
    ]
    post = FEATURE_NAMES.index("upright_post_deg")
    for walked in (False, True):
        falls = [run for run in replays[1 + 3 * walked].trials if run.trial.is_fall]
        known = [not np.isnan(c.features[post]) for run in falls for c in run.candidates]
        assert known and all(known) == walked and any(known) == walked
    result = falls_upright.scored(replays, SUBJECTS, 3, [50.0], ["shipped", "routed"])
    assert result["shipped"]["folds"] == result["routed"]["folds"]
    assert sorted(result["routed"]["folds"]) == [[s] for s in SUBJECTS]
    shipped, routed = result["shipped"]["50"], result["routed"]["50"]
    alone = [{key: row["without_prelude"][key] for key in TRIAL_KEYS} for row in (shipped, routed)]
    assert alone[0] == alone[1]
    assert (alone[0]["falls"], alone[0]["adl"]) == (12, 15)
    assert routed["with_prelude"]["falls"] == 12 and routed["with_prelude"]["adl"] == 15

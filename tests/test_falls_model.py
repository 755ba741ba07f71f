"""The shipped model, its trust boundary, and honest figures on subjects it never saw."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from typer.testing import CliRunner

from detector.falls import rule as fall_rule
from detector.falls.features import FEATURE_NAMES, WINDOW_FEATURES
from detector.falls.scoring import (
    BUNDLED_MODEL,
    CompiledTrees,
    FallModel,
    ThresholdRule,
    bundled_model,
)
from detector.falls.stream import FallConfig
from eldercare.app.cli import app
from evaluation.falls.cross_validation import evaluate
from evaluation.falls.replay import replay
from evaluation.falls.sisfall import find_trials
from evaluation.falls.training import TRAINING_RATES_HZ, fit_classifier, train
from tests.falls_support import sisfall_dir

REPORT_KEYS = {"sensitivity", "specificity", "precision", "f1", "false_alarms_per_hour"}


def test_shipped_model_is_small_documented_and_loads_without_sklearn() -> None:
    path = resources.files("detector.falls").joinpath(BUNDLED_MODEL)
    assert path.is_file() and len(path.read_bytes()) <= 1_000_000
    model = bundled_model()
    assert model is not None
    assert set(model.trained_on["rates_hz"]) == set(TRAINING_RATES_HZ)
    assert len(model.trained_on["subjects"]) >= 20
    assert FallConfig(**model.config) == FallConfig()
    code = "import sys, detector.falls.rule as r; r.FallRule(); print('sklearn' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_compiled_trees_score_exactly_like_sklearn_and_survive_a_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(2000, len(FEATURE_NAMES)))
    labels = (features[:, 0] + features[:, 10] ** 2 + rng.normal(0, 0.5, 2000) > 1).astype(int)
    features[::7, 6] = np.nan  # stream starts: no history before the impact
    estimator = fit_classifier(features, labels)
    model = FallModel(CompiledTrees.from_estimator(estimator), 0.5, {"rate_hz": 50.0})
    expected = estimator.predict_proba(features)[:, 1]
    np.testing.assert_allclose(model.scores(features), expected, atol=1e-12)
    model.save(tmp_path / "m.npz")
    again = FallModel.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.scores(features), model.scores(features))
    assert again.config == {"rate_hz": 50.0}


def test_a_model_reads_only_the_stream_columns_it_was_trained_on(tmp_path: Path) -> None:
    """A model names its columns; the stream's rows hold more (the bundled one: 12 of 15)."""
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(500, len(FEATURE_NAMES)))
    names = ("turn_rate_dps", "peak_g", "tilt_deg")  # out of the stream's order on purpose
    picked = [FEATURE_NAMES.index(name) for name in names]
    labels = (rows[:, picked[0]] + rows[:, picked[2]] > 0).astype(int)
    estimator = HistGradientBoostingClassifier(max_iter=10).fit(rows[:, picked], labels)
    trees = CompiledTrees.from_estimator(estimator)
    model = FallModel(trees, 0.5, {}, feature_names=names)
    expected = estimator.predict_proba(rows[:, picked])[:, 1]
    np.testing.assert_allclose(model.scores(rows), expected, atol=1e-12)
    model.save(tmp_path / "three.npz")
    again = FallModel.load(tmp_path / "three.npz")
    assert again.feature_names == names
    np.testing.assert_array_equal(again.scores(rows), model.scores(rows))
    shipped = bundled_model()
    assert shipped is not None and shipped.feature_names == WINDOW_FEATURES
    with pytest.raises(ValueError, match="does not compute"):
        FallModel(trees, 0.5, {}, feature_names=("turn_rate_dps", "peak_g", "heart_rate"))


def test_model_files_holding_anything_but_numbers_are_refused(tmp_path: Path) -> None:
    model = bundled_model()
    assert model is not None
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as stored:
        arrays = dict(stored)
    pickled = {**arrays, "value": np.array([print, 1.0], dtype=object)}  # needs pickle
    np.savez(tmp_path / "evil.npz", **pickled)
    with pytest.raises(ValueError, match="refusing model file"):
        FallModel.load(tmp_path / "evil.npz")
    broken = {**arrays, "left": arrays["left"] + 10**6}  # children outside the arrays
    np.savez(tmp_path / "broken.npz", **broken)
    with pytest.raises(ValueError, match="inconsistent"):
        FallModel.load(tmp_path / "broken.npz")


def test_the_rule_falls_back_to_thresholds_without_a_model(monkeypatch) -> None:
    monkeypatch.setattr(fall_rule, "_shared_model", lambda: None)
    assert isinstance(fall_rule.FallRule().scorer, ThresholdRule)


@pytest.mark.slow
def test_trained_on_some_people_it_finds_the_falls_of_others_at_200_and_20_hz() -> None:
    trials = find_trials(sisfall_dir())
    seen, unseen = {"SA01", "SA04", "SE01"}, {"SA11", "SE05"}
    model = train(
        replay([t for t in trials if t.subject in seen], TRAINING_RATES_HZ, continuous=False)
    )
    assert model.trained_on["subjects"] == sorted(seen)
    tested = replay([t for t in trials if t.subject in unseen], [200.0, 20.0], model)
    reports = {r.rate_hz: evaluate(r, lambda _: model, FallConfig().refractory_s) for r in tested}
    full = reports[200.0]
    assert full["tp"] + full["fn"] == 75 and full["by_group"]["SE"]["fn"] == 0
    assert full["sensitivity"] >= 0.95
    assert full["specificity"] >= 0.95
    assert full["false_alarms_per_hour"] is not None
    assert full["delay_mean_s"] <= 4.5
    assert reports[20.0]["sensitivity"] > full["sensitivity"] - 0.03  # the bound


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three people, a few fall and activity codes each: enough for the CLI's paths."""
    root = tmp_path_factory.mktemp("sisfall-small")
    source = sisfall_dir()
    for subject in ("SA03", "SA09", "SE02"):
        (root / subject).mkdir()
        for path in sorted((source / subject).glob("*")):
            if path.name[:3] in {"F01", "F13", "D07", "D13"}:
                (root / subject / path.name).symlink_to(path)
    return root


@pytest.mark.slow
def test_cli_trains_and_evaluates_with_cross_validation(small_dataset: Path, tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "model.npz"
    trained = runner.invoke(app, ["train", "falls", str(small_dataset), "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    assert FallModel.load(out).trained_on["subjects"] == ["SA03", "SA09", "SE02"]

    evaluated = runner.invoke(
        app, ["eval", "falls", str(small_dataset), "--model", str(out), "--rate", "20", "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.output)
    assert set(report) >= REPORT_KEYS and report["rate_hz"] == 20.0
    assert report["sensitivity"] >= 0.9  # in-sample: a smoke test of the pipeline only

    crossed = runner.invoke(app, ["eval", "falls", str(small_dataset), "--cv", "3", "--json"])
    assert crossed.exit_code == 0, crossed.output
    report = json.loads(crossed.output)
    assert set(report) >= REPORT_KEYS
    assert sorted(s for fold in report["folds"] for s in fold) == ["SA03", "SA09", "SE02"]
    assert set(report["by_group"]) == {"SA", "SE"}
    subjects = report["by_subject"]  # DESIGN §4: per subject, not only per group
    assert set(subjects) == {"SA03", "SA09", "SE02"}
    for key in ("tp", "fn", "fp", "tn"):
        assert sum(row[key] for row in subjects.values()) == report[key]
    assert subjects["SE02"]["tp"] + subjects["SE02"]["fn"] == 0  # older adults: no falls
    assert report["by_code"]["F01"]["trials"] == 10
    assert report["delay_p90_s"] >= report["delay_mean_s"] > 3.0

    text = runner.invoke(app, ["eval", "falls", str(small_dataset), "--rule"])
    assert text.exit_code == 0, text.output
    assert "threshold rule" in text.output and "false_alarms_per_hour" in text.output

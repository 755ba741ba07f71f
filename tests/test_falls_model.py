"""The shipped model, its trust boundary, and honest figures on subjects it never saw."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer
from typer.testing import CliRunner

from detector.falls import rule as fall_rule
from detector.falls.evaluation import evaluate
from detector.falls.replay import replay
from detector.falls.scoring import BUNDLED_MODEL, FallModel, ThresholdRule, bundled_model
from detector.falls.sisfall import find_trials
from detector.falls.stream import FallConfig
from detector.falls.training import TRAINING_RATES_HZ, train
from eldercare.cli import app
from tests.falls_support import sisfall_dir

REPORT_KEYS = {"sensitivity", "specificity", "precision", "f1", "false_alarms_per_hour"}


def test_shipped_model_is_small_documented_and_scores_like_sklearn() -> None:
    path = resources.files("detector.falls").joinpath(BUNDLED_MODEL)
    assert path.is_file() and len(path.read_bytes()) <= 1_000_000
    model = bundled_model()
    assert model is not None
    assert set(model.trained_on["rates_hz"]) == set(TRAINING_RATES_HZ)
    assert len(model.trained_on["subjects"]) >= 20
    assert FallConfig(**model.config) == FallConfig()
    scale = np.array([8, 1, 0.5, 400, 2, 1, 0.5, 0.5, 1.5, 40, 120, 60])
    rows = np.random.default_rng(1).uniform(0, 1, size=(300, 12)) * scale
    rows[::7, 6] = np.nan  # stream starts: no history before the impact
    expected = model.estimator.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(model.scores(rows), expected, atol=1e-12)


def test_model_files_with_unexpected_types_are_refused(tmp_path: Path) -> None:
    model = bundled_model()
    assert model is not None
    state = {
        "estimator": FunctionTransformer(eval),  # a callable: could run anything
        "threshold": 0.5,
        "config": model.config,
        "trained_on": {},
        "feature_names": list(model.feature_names),
    }
    path = tmp_path / "evil.skops"
    sio.dump(state, path)
    with pytest.raises(ValueError, match="refusing unexpected types"):
        FallModel.load(path)


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
    out = tmp_path / "model.skops"
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
    assert report["by_code"]["F01"]["trials"] == 10
    assert report["delay_p90_s"] >= report["delay_mean_s"] > 3.0

    text = runner.invoke(app, ["eval", "falls", str(small_dataset), "--rule"])
    assert text.exit_code == 0, text.output
    assert "threshold rule" in text.output and "false_alarms_per_hour" in text.output

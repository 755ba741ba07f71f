"""``eval falls --stream``: a long daily-life CSV, its suspicions and alerts per hour of wear."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from detector.falls.scoring import ThresholdRule
from detector.falls.stream import FallConfig
from eldercare.app.cli import app
from evaluation.falls.daily_stream import (
    StreamFileError,
    read_stream_csv,
    run_stream,
    stream_batches,
)

UPRIGHT, LYING = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])


def _still(seconds: float, rate: float, gravity: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 0.005, (round(seconds * rate), 3))
    return gravity + noise


def _walk(seconds: float, rate: float) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    bounce = 0.3 * np.sin(2 * np.pi * 1.8 * t)  # steps: the magnitude swings ±0.3 g
    return np.column_stack([0.1 * np.sin(2 * np.pi * 0.9 * t), 0 * t, 1 + bounce])


def _fall(rate: float) -> np.ndarray:
    """An impact of 3 g that leaves the pendant lying on its side."""
    impact = np.tile([2.0, 0.0, 2.2], (max(1, round(0.04 * rate)), 1))
    return np.vstack([impact, _still(0.2, rate, LYING, 9)])


def synthetic_day(rate: float) -> np.ndarray:
    """Two minutes: standing, a fall and lying still (critical), getting up and walking,
    a fall and walking on (medium: the resident moved), standing."""
    return np.vstack(
        [
            _still(20, rate, UPRIGHT, 1),
            _fall(rate),
            _still(30, rate, LYING, 2),
            _walk(20, rate),
            _still(5, rate, UPRIGHT, 3),
            _fall(rate),
            _still(3.5, rate, LYING, 4),
            _walk(20, rate),
            _still(20, rate, UPRIGHT, 5),
        ]
    )


def _write(path: Path, times: np.ndarray, samples: np.ndarray) -> Path:
    np.savetxt(path, np.column_stack([times, samples]), delimiter=",", header="t,x,y,z")
    return path


@pytest.mark.parametrize("rate", [25.0, 100.0])
def test_a_day_with_two_falls_gives_two_suspicions_one_critical_one_check_in(rate) -> None:
    samples = synthetic_day(rate)
    times = 1_700_000_000.0 + np.arange(len(samples)) / rate
    report = run_stream("day", times, samples, ThresholdRule(), FallConfig())
    hours = len(samples) / rate / 3600
    assert report.hours == pytest.approx(hours, rel=1e-3)
    assert report.suspicions == 2
    assert report.suspected_at == pytest.approx([20.0 + 3.5, 75.24 + 3.5], abs=0.6)
    assert report.alerts == {"critical": 1, "medium": 1}
    figures = report.as_dict()
    assert figures["suspicions_per_hour"] == pytest.approx(2 / hours, rel=1e-3)
    assert figures["alerts_per_hour"]["critical"] == pytest.approx(1 / hours, rel=1e-3)


def test_a_fall_in_the_streams_last_seconds_is_resolved_not_left_open() -> None:
    """The recording ends 1 s after the impact: the suspicion is decided only once the clock
    runs on past the end, and its confirmation window must run out after that too."""
    samples = np.vstack([_still(20, 50.0, UPRIGHT, 1), _fall(50.0), _still(1, 50.0, LYING, 2)])
    times = np.arange(len(samples)) / 50.0
    report = run_stream("end", times, samples, ThresholdRule(), FallConfig())
    assert report.suspicions == 1
    assert report.alerts == {"critical": 1}


def test_a_gap_in_the_recording_is_a_gap_for_the_detector() -> None:
    times = np.concatenate([np.arange(100) / 50, 10 + np.arange(120) / 50])
    batches = stream_batches(times, np.zeros((220, 3)))
    assert [len(b[2]) for b in batches] == [50, 50, 50, 50, 20]
    assert all(b[1] == 50.0 for b in batches)
    assert batches[2][0] == 10.0  # the batch after the gap starts at its own first sample


def test_the_cli_reads_a_csv_stream_and_reports_per_hour(tmp_path: Path) -> None:
    samples = synthetic_day(50.0)
    path = _write(tmp_path / "day.csv", np.arange(len(samples)) / 50.0, samples)
    result = CliRunner().invoke(app, ["eval", "falls", str(path), "--stream", "--rule", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # the rule logs its suspicions on stderr
    hours = len(samples) / 50.0 / 3600
    assert report["hours"] == pytest.approx(hours, rel=1e-3)
    assert report["suspicions"] == 2 and report["alerts"]["critical"] == 1
    assert report["suspicions_per_hour"] == pytest.approx(2 / hours, rel=1e-3)
    assert report["by_stream"][0]["rate_hz"] == 50.0

    text = CliRunner().invoke(app, ["eval", "falls", str(tmp_path), "--stream", "--rule"])
    assert text.exit_code == 0, text.output
    assert "suspicions/h" in text.output and "1 critical, 1 medium" in text.output


def test_a_file_that_is_not_a_stream_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,x,y\n0,1,2\n1,1,2\n")
    with pytest.raises(StreamFileError):
        read_stream_csv(bad)
    backwards = _write(tmp_path / "back.csv", np.array([1.0, 0.5]), np.zeros((2, 3)))
    with pytest.raises(StreamFileError):
        read_stream_csv(backwards)
    result = CliRunner().invoke(app, ["eval", "falls", str(bad), "--stream", "--rule"])
    assert result.exit_code != 0


def test_a_plain_header_line_is_skipped_and_numbers_are_not(tmp_path: Path) -> None:
    with_header = tmp_path / "a.csv"
    with_header.write_text("time,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n")
    bare = tmp_path / "b.csv"
    bare.write_text("0,0,0,1\n0.02,0,0,1e0\n")
    for path in (with_header, bare):
        times, samples = read_stream_csv(path)
        assert times.tolist() == [0.0, 0.02] and samples[:, 2].tolist() == [1.0, 1.0]

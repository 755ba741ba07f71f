"""Converting other fall data sets (scripts/convert_falls.py) into what the lab reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.falls.replay import downsample
from evaluation.falls.sisfall import G_PER_COUNT, SISFALL_RATE_HZ, find_trials, read_trial
from scripts import convert_falls
from scripts.convert_falls import STANDARD_GRAVITY, ConversionError
from tests.falls_support import HAPT_ROWS

HEADER = """#Acceleration force along the x y z axes (including gravity).
#timestamp(ns),x,y,z(m/s^2)
##########################################
#Activity: 12 - BSC - Back sitting chair - 10s
#Subject ID: 3
##########################################


@DATA
"""


def _mobifall(path: Path, times_s: np.ndarray, samples_ms2: np.ndarray) -> None:
    rows = "".join(
        f"{round(t * 1e9)}, {x}, {y}, {z}\n"
        for t, (x, y, z) in zip(times_s, samples_ms2, strict=True)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + rows)


def test_a_mobifall_trial_becomes_a_sisfall_trial_in_g_at_200_hz(tmp_path: Path) -> None:
    # ~90 Hz with jitter, a 0.4 s stall and a repeated timestamp, as the phone records; the
    # signal is a ramp in x, so linear interpolation must reproduce it exactly on the grid.
    rng = np.random.default_rng(1)
    steps = rng.uniform(0.009, 0.013, size=400)
    steps[200] = 0.4
    times = 1000.0 + np.concatenate([[0.0], np.cumsum(steps)])
    times = np.insert(times, 50, times[50])
    ramp = 0.5 * (times - times[0])  # g
    samples = np.column_stack([ramp, -np.ones_like(times), np.zeros_like(times)])
    source = tmp_path / "mobifall"
    _mobifall(source / "sub3/FALLS/BSC/BSC_acc_3_2.txt", times, samples * STANDARD_GRAVITY)
    _mobifall(source / "sub3/ADL/SCH/SCH_acc_3_5.txt", times, samples * STANDARD_GRAVITY)
    (source / "sub3/FALLS/BSC/BSC_gyro_3_2.txt").write_text("not read")

    out = tmp_path / "converted"
    assert convert_falls.convert_mobifall(source, out) == 2
    trials = find_trials(out)
    assert [(t.subject, t.code, t.trial, t.is_fall) for t in trials] == [
        ("MF03", "D27", "R05", False),  # SCH: sitting on a chair
        ("MF03", "F23", "R02", True),  # BSC: fall backwards while sitting down
    ]
    g = read_trial(trials[1].path)
    duration = times[-1] - times[0]
    assert len(g) == int(duration * SISFALL_RATE_HZ) + 1
    expected_x = 0.5 * np.arange(len(g)) / SISFALL_RATE_HZ
    np.testing.assert_allclose(g[:, 0], expected_x, atol=G_PER_COUNT)
    np.testing.assert_allclose(g[:, 1], -1.0, atol=G_PER_COUNT)
    assert downsample(g, 50.0).shape == (len(g) // 4, 3)  # the lab's rates divide the grid
    assert "MobiFall" in (out / "SOURCE.txt").read_text()


def test_unknown_codes_and_broken_files_are_refused(tmp_path: Path) -> None:
    times = np.array([0.0, 0.01, 0.02])
    samples = np.zeros((3, 3))
    _mobifall(tmp_path / "a" / "XYZ_acc_1_1.txt", times, samples)
    with pytest.raises(ConversionError, match="unknown activity code XYZ"):
        convert_falls.convert_mobifall(tmp_path / "a", tmp_path / "out")
    broken = tmp_path / "b" / "FOL_acc_1_1.txt"
    broken.parent.mkdir()
    broken.write_text("#header only\n")
    with pytest.raises(ConversionError, match="no @DATA"):
        convert_falls.convert_mobifall(tmp_path / "b", tmp_path / "out")
    broken.write_text("@DATA\n1, 2, 3\n")
    with pytest.raises(ConversionError, match="timestamp, x, y, z"):
        convert_falls.convert_mobifall(tmp_path / "b", tmp_path / "out")


def test_each_hapt_label_becomes_an_activity_trial_with_its_context(tmp_path: Path) -> None:
    source = tmp_path / "RawData"
    source.mkdir()
    # experiment, user, activity (5 standing, 12 lie-to-stand), first and last sample from 1
    (source / "labels.txt").write_text("1 1 5 2 2\n1 1 12 3 4\n1 1 5 6 6\n2 1 5 1 2\n")
    (source / "acc_exp01_user01.txt").write_text("".join(HAPT_ROWS))
    (source / "acc_exp02_user01.txt").write_text("".join(HAPT_ROWS[:3]))

    out = tmp_path / "converted"
    assert convert_falls.convert_hapt(source, out, context_s=0.02) == 4
    trials = find_trials(out)
    assert [(t.subject, t.code, t.trial, t.is_fall) for t in trials] == [
        ("HA01", "D45", "R01", False),  # standing: numbered on across the person's runs
        ("HA01", "D45", "R02", False),
        ("HA01", "D45", "R03", False),
        ("HA01", "D52", "R01", False),  # lie-to-stand
    ]
    rows = np.array([[float(v) for v in row.split()] for row in HAPT_ROWS])
    lie_to_stand = read_trial(trials[3].path)
    # samples 3-4 and one on each side (0.02 s), 50 Hz -> 200 Hz: 4 grid steps a sample
    assert len(lie_to_stand) == 3 * 4 + 1
    np.testing.assert_allclose(lie_to_stand[0], rows[1], atol=G_PER_COUNT)
    np.testing.assert_allclose(lie_to_stand[-1], rows[4], atol=G_PER_COUNT)
    np.testing.assert_allclose(lie_to_stand[2], (rows[1] + rows[2]) / 2, atol=G_PER_COUNT)
    assert "HAPT" in (out / "SOURCE.txt").read_text()


def _fallalld(path: Path, counts: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x},{y},{z}\n" for x, y, z in counts))


def test_a_fallalld_waist_trial_becomes_a_sisfall_trial_in_g_at_200_hz(tmp_path: Path) -> None:
    # 1 s at 238 Hz as the device writes it: x a ramp of 0.5 g/s in counts, y at rest (-1 g)
    n = 238
    ramp = np.rint(0.5 * np.arange(n) / 238.0 / 0.000244)
    counts = np.column_stack([ramp, np.full(n, -4098), np.zeros(n)]).astype(int)
    source = tmp_path / "FallAllD"
    _fallalld(source / "S03_D3_A130_T02_A.dat", counts)  # fainting, falls backwards off a chair
    _fallalld(source / "S03_D3_A013_T01_A.dat", counts)  # sitting down
    _fallalld(source / "S03_D1_A130_T02_A.dat", counts)  # the same fall, neck device
    (source / "S03_D3_A130_T02_G.dat").write_text("not read")

    out = tmp_path / "converted"
    assert convert_falls.convert_fallalld(source, out) == 2
    trials = find_trials(out)
    assert [(t.subject, t.code, t.trial, t.is_fall) for t in trials] == [
        ("FA03", "D68", "R01", False),
        ("FA03", "F90", "R02", True),
    ]
    g = read_trial(trials[1].path)
    assert len(g) == int((n - 1) / 238.0 * SISFALL_RATE_HZ) + 1
    expected_x = 0.5 * np.arange(len(g)) / SISFALL_RATE_HZ
    np.testing.assert_allclose(g[:, 0], expected_x, atol=2 * G_PER_COUNT)
    np.testing.assert_allclose(g[:, 1], -4098 * 0.000244, atol=G_PER_COUNT)
    assert "FallAllD" in (out / "SOURCE.txt").read_text()
    assert convert_falls.convert_fallalld(source, tmp_path / "neck", device=1) == 1


def test_fallalld_codes_stay_apart_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    assert [convert_falls.fallalld_code(a) for a in (1, 44, 101, 135)] == [
        "D56",
        "D99",
        "F61",
        "F95",
    ]
    with pytest.raises(ConversionError, match="unknown FallAllD activity 99"):
        convert_falls.fallalld_code(99)
    _fallalld(tmp_path / "a" / "S01_D3_A101_T01_A.dat", np.zeros((1, 3), dtype=int))
    with pytest.raises(ConversionError, match="at least two"):
        convert_falls.convert_fallalld(tmp_path / "a", tmp_path / "out")

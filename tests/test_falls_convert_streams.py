"""Long recordings (scripts/convert_streams.py) into the t,x,y,z streams --stream replays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.falls.daily_stream import read_stream_csv, stream_batches
from scripts import convert_streams
from scripts.convert_streams import (
    CASALE_RATE_HZ,
    DAPHNET_RATE_HZ,
    HAPT_RATE_HZ,
    STANDARD_GRAVITY,
    CalibrationError,
    ConversionError,
)
from tests.falls_support import HAPT_ROWS

HARTH_HEADER = "timestamp,back_x,back_y,back_z,thigh_x,thigh_y,thigh_z,label\n"


def _harth(path: Path, rows: list[str]) -> Path:
    path.write_text(HARTH_HEADER + "".join(rows), encoding="utf-8")
    return path


def _daphnet_row(ms: int, hip_mg: tuple[int, int, int], annotation: int) -> str:
    # time, ankle xyz, thigh xyz, hip ("trunk") xyz, annotation: as the published files
    return f"{ms} 70 39 -970 11 -950 40 {hip_mg[0]} {hip_mg[1]} {hip_mg[2]} {annotation}\n"


def test_harth_keeps_the_lower_back_in_g_and_counts_seconds_from_the_first_sample(
    tmp_path: Path,
) -> None:
    source = _harth(
        tmp_path / "501.csv",
        [
            "2021-03-24 14:42:03.839,-1.0,-0.125,-0.264404,-0.96,-0.09,-0.1,6\n",
            "2021-03-24 14:42:03.859,-0.999756,-0.123291,-0.265625,-0.96,-0.09,-0.12,6\n",
            "2021-03-24 14:42:03.859,9.0,9.0,9.0,9.0,9.0,9.0,6\n",  # repeated time: dropped
            "2021-03-24 14:42:03.880000000,-1.001709,-0.10791,-0.2656,-0.97,-0.09,-0.13,7\n",
        ],
    )
    times, samples = convert_streams.read_harth(source)
    np.testing.assert_allclose(times, [0.0, 0.020, 0.041])
    np.testing.assert_allclose(
        samples,
        [
            [-1.0, -0.125, -0.264404],
            [-0.999756, -0.123291, -0.265625],
            [-1.001709, -0.10791, -0.2656],
        ],
    )


def test_harth_without_the_back_sensor_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "S006.csv"
    source.write_text("timestamp,thigh_x,thigh_y,thigh_z\n2019-01-12 00:00:00.000,1,0,0\n")
    with pytest.raises(ConversionError, match="back_x"):
        convert_streams.read_harth(source)


def test_daphnet_puts_whole_milliseconds_back_on_the_64_hz_grid_and_keeps_the_protocol(
    tmp_path: Path,
) -> None:
    ms = [int(k * 1000 / DAPHNET_RATE_HZ) for k in range(1, 9)]  # 15, 31, 46, 62, ...
    annotations = [0, 0, 1, 1, 2, 1, 1, 0]
    hips = [(40, 990, 100)] * 8
    hips[5] = (0, 0, 0)  # no reading from the hip sensor: gravity is never 0
    source = tmp_path / "S01R02.txt"
    source.write_text(
        "".join(_daphnet_row(m, h, a) for m, h, a in zip(ms, hips, annotations, strict=True))
    )
    times, samples = convert_streams.read_daphnet(source)
    np.testing.assert_array_equal(times, np.array([3, 4, 5, 7]) / DAPHNET_RATE_HZ)
    np.testing.assert_allclose(samples, [[0.04, 0.99, 0.1]] * 4)
    everything, _ = convert_streams.read_daphnet(source, all_rows=True)
    assert len(everything) == 7  # only the missing reading is left out


def _hapt(folder: Path, labels: str) -> Path:
    folder.mkdir()
    (folder / "labels.txt").write_text(labels)
    source = folder / "acc_exp01_user01.txt"
    source.write_text("".join(HAPT_ROWS))
    return source


def test_hapt_keeps_the_labelled_protocol_on_the_50_hz_grid_and_names_each_activity(
    tmp_path: Path,
) -> None:
    # experiment, user, activity, first and last sample (from 1, both included): samples
    # 2-3 standing (5), 4-5 stand-to-lie (11); a row for another experiment is not this one's.
    source = _hapt(tmp_path / "RawData", "1 1 5 2 3\n1 1 11 4 5\n2 1 6 1 3\n")
    labels = convert_streams.read_hapt_labels(source.parent / "labels.txt")
    assert [(a.start_s, a.end_s, a.name) for a in labels["acc_exp01_user01"]] == [
        (1 / HAPT_RATE_HZ, 3 / HAPT_RATE_HZ, "standing"),
        (3 / HAPT_RATE_HZ, 5 / HAPT_RATE_HZ, "stand_to_lie"),
    ]
    times, samples = convert_streams.read_hapt(source, labels["acc_exp01_user01"])
    np.testing.assert_array_equal(times, np.array([1, 2, 3, 4]) / HAPT_RATE_HZ)
    np.testing.assert_allclose(samples[0], [0.9111111304603812, -0.09305556168259389, 0.5375])
    everything, _ = convert_streams.read_hapt(source, labels["acc_exp01_user01"], all_rows=True)
    assert len(everything) == len(HAPT_ROWS)  # the phone being put on and taken off, too
    out = tmp_path / "streams"
    (written,) = convert_streams.convert("hapt", source.parent, out, rate_hz=25.0)
    times, _ = read_stream_csv(written)
    assert np.median(np.diff(times)) == pytest.approx(1 / 25.0)
    assert (out / "ACTIVITIES.txt").read_text().splitlines() == [
        "stream,start_s,end_s,activity",
        "acc_exp01_user01,0.02,0.06,standing",
        "acc_exp01_user01,0.06,0.10,stand_to_lie",
    ]


def test_hapt_without_labels_or_with_an_unknown_activity_is_refused(tmp_path: Path) -> None:
    source = _hapt(tmp_path / "RawData", "1 1 13 1 3\n")
    with pytest.raises(ConversionError, match="activity 1-12"):
        convert_streams.read_hapt_labels(source.parent / "labels.txt")
    with pytest.raises(ConversionError, match="no activity for acc_exp01_user01"):
        convert_streams.read_hapt(source, [])


#: data_1600_accel_phone.txt as published: subject, activity, ns, x, y, z in m/s^2, ";".
WISDM_ROWS = (
    "1600,A,252207666810782,-0.36476135,8.793503,1.0550842;\n",
    "1600,A,252207717164786,-0.8797302,9.768784,1.0169983;\n",
    "1600,A,252207767518790,2.0014954,11.10907,2.619156;\n",
    "1600,D,241598672571016,3.9438477,5.6366425,6.2335052;\n",  # sitting, recorded earlier
    "1600,D,241598622217012,4.059128,5.9654236,6.240402;\n",  # out of order: put back
    "1600,D,241598722925020,3.5816956,5.6384277,6.787384;\n",
)


def test_wisdm_writes_each_activity_as_its_own_stream_in_g_from_its_first_sample(
    tmp_path: Path,
) -> None:
    source = tmp_path / "data_1600_accel_phone.txt"
    source.write_text("".join(WISDM_ROWS))
    recordings = {name: (t, x) for name, t, x in convert_streams.read_wisdm(source)}
    assert sorted(recordings) == ["1600_A_walking", "1600_D_sitting"]
    times, samples = recordings["1600_D_sitting"]
    np.testing.assert_allclose(times, [0.0, 0.050354004, 0.100708008])
    np.testing.assert_allclose(
        samples[0] * STANDARD_GRAVITY, [4.059128, 5.9654236, 6.240402], rtol=1e-12
    )
    written = convert_streams.convert("wisdm", tmp_path, tmp_path / "streams")
    assert [path.name for path in written] == ["1600_A_walking.csv", "1600_D_sitting.csv"]
    times, _ = read_stream_csv(written[0])
    assert {rate for _, rate, _ in stream_batches(times, samples)} == {round(1 / 0.050354004, 3)}


def test_wisdm_rows_that_are_not_samples_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "data_1601_accel_phone.txt"
    source.write_text(WISDM_ROWS[0] + "1601,N,252207717164786,0.1,9.7,1.0;\n")
    with pytest.raises(ConversionError, match="not subject,activity"):
        convert_streams.read_wisdm(source)


#: The first rows of Casale's 1.csv: sequential number, x, y, z (12-bit counts), label.
CASALE_ROWS = ("0,1502,2215,2153,1\n", "1,1667,2072,2047,1\n", "2,1611,1957,1906,1\n")
STILL = 156  # 3 s at 52 Hz


def _casale_number(row: int) -> str:
    """As the published files number rows: 3 significant digits from 100000 on ("1e+05");
    here rows 500 on stand for them, so the test needs no 100000 rows."""
    return f"{row}" if row < 500 else f"{row * 200:.3g}"


def _casale(path: Path, postures: list[tuple[float, float]], labels: list[int]) -> Path:
    """The published rows, then 3 s still in each posture (tilt from upright and its
    direction, degrees) of a sensor whose zero is (1984, 2021, 2010) counts and whose gain
    is 362 counts/g, written in whole counts as the published files are."""
    tilt, towards = np.radians(np.array(postures)).T
    gravity = np.column_stack(
        [np.sin(tilt) * np.cos(towards), np.cos(tilt), np.sin(tilt) * np.sin(towards)]
    )
    noise = np.random.default_rng(5).normal(0.0, 1.5, (len(postures) * STILL, 3))
    counts = np.rint([1984, 2021, 2010] + 362 * np.repeat(gravity, STILL, axis=0) + noise)
    rows = [
        f"{_casale_number(k + len(CASALE_ROWS))},{x:.0f},{y:.0f},{z:.0f},{labels[k // STILL]}\n"
        for k, (x, y, z) in enumerate(counts)
    ]
    path.write_text("".join(CASALE_ROWS) + "".join(rows))
    return path


def test_casale_counts_are_put_in_g_by_the_persons_own_still_postures(tmp_path: Path) -> None:
    postures = [(0.0, 0.0), (30.0, 0.0), (30.0, 90.0), (50.0, 180.0), (70.0, 270.0)]
    source = _casale(tmp_path / "2.csv", postures, [1, 1, 0, 3, 3])
    times, samples, activities = convert_streams.read_casale(source)
    np.testing.assert_allclose(times[:3], np.arange(3) / CASALE_RATE_HZ)
    still = samples[len(CASALE_ROWS) :]  # the sensor's first rows are not still
    np.testing.assert_allclose(np.linalg.norm(still, axis=1), 1.0, atol=0.02)
    np.testing.assert_allclose(
        still[-1], [0.0, np.cos(np.radians(70)), -np.sin(np.radians(70))], atol=0.02
    )
    assert [
        (a.name, round(a.start_s * CASALE_RATE_HZ), round(a.end_s * CASALE_RATE_HZ))
        for a in activities
    ] == [
        ("working_at_computer", 0, 3 + 2 * STILL),
        ("standing", 3 + 3 * STILL, 3 + 5 * STILL),  # label 0 (unlabelled) is no activity
    ]


def test_casale_with_one_posture_is_left_out_not_guessed(tmp_path: Path) -> None:
    upright = _casale(tmp_path / "9.csv", [(0.0, 0.0), (4.0, 0.0), (4.0, 90.0)], [1, 1, 1])
    with pytest.raises(CalibrationError, match="degrees of tilt"):
        convert_streams.read_casale(upright)
    _casale(tmp_path / "2.csv", [(0.0, 0.0), (30.0, 0.0), (30.0, 90.0), (50.0, 180.0)], [1] * 4)
    out = tmp_path / "streams"
    assert convert_streams.convert("casale", tmp_path, out) == [out / "2.csv"]
    assert "left out: " in (out / "SOURCE.txt").read_text()
    with pytest.raises(ConversionError, match="nothing to write"):
        convert_streams.convert("casale", upright, tmp_path / "none")
    gap = tmp_path / "gap" / "3.csv"
    gap.parent.mkdir()
    gap.write_text(CASALE_ROWS[0] + CASALE_ROWS[2])  # sample 1 missing
    with pytest.raises(ConversionError, match="skip or repeat"):
        convert_streams.read_casale(gap)


def test_a_lower_rate_is_what_a_device_at_that_rate_sends_and_gaps_stay_gaps() -> None:
    rate = DAPHNET_RATE_HZ
    first = np.arange(0, 10 * rate) / rate  # 10 s, a 5 s gap, then 10 s more
    times = np.concatenate([first, first + 15.0])
    samples = np.column_stack([np.ones_like(times), np.zeros_like(times), times])
    out_times, out_samples = convert_streams.at_rate(times, samples, 20.0)
    assert np.median(np.diff(out_times)) == pytest.approx(0.05)
    assert not np.any((out_times > 10.0) & (out_times < 15.0))  # nothing invented in the gap
    np.testing.assert_allclose(out_samples[:, 0], 1.0)  # a constant stays constant
    # The ramp is box-averaged and put back where it belongs: value == time, within a sample.
    np.testing.assert_allclose(out_samples[:, 2], out_times, atol=1 / rate)
    with pytest.raises(ConversionError, match="above"):
        convert_streams.at_rate(times, samples, 100.0)


def test_converted_streams_are_what_eval_falls_stream_reads(tmp_path: Path) -> None:
    source = tmp_path / "dataset"
    source.mkdir()
    rows = [_daphnet_row(int(k * 1000 / DAPHNET_RATE_HZ), (40, 990, 100), 1) for k in range(640)]
    (source / "S07R02.txt").write_text("".join(rows))
    out = tmp_path / "streams"
    written = convert_streams.convert("daphnet", source, out)
    assert written == [out / "S07R02.csv"]
    assert "Daphnet" in (out / "SOURCE.txt").read_text()
    times, samples = read_stream_csv(written[0])
    assert samples.shape == (640, 3)
    # The replay's rate is the file's median spacing: 64 Hz, not the 62.5 Hz of whole ms.
    assert {rate for _, rate, _ in stream_batches(times, samples)} == {DAPHNET_RATE_HZ}
    (slower,) = convert_streams.convert("daphnet", source, tmp_path / "slow", rate_hz=20.0)
    times, _ = read_stream_csv(slower)
    assert {rate for _, rate, _ in stream_batches(times, samples[: len(times)])} == {20.0}

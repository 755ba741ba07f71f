"""Long recordings (scripts/convert_streams.py) into the t,x,y,z streams --stream replays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.falls.daily_stream import read_stream_csv, stream_batches
from scripts import convert_streams
from scripts.convert_streams import DAPHNET_RATE_HZ, ConversionError

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

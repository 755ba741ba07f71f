"""The writer against a real victoria-metrics: exact round trip, outage, restart, spool bound."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from eldercare.broker import free_port
from eldercare.clock import SimulatedClock
from eldercare.series_points import to_line
from eldercare.series_spool import DiskSpool
from eldercare.timeseries import InfluxTransport, SeriesWriter
from tests.series_data import expected_samples, points
from tests.victoria import LocalVictoriaMetrics, victoria_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def make_writer(url: str, spool_dir: Path, max_bytes: int = 64 * 1024 * 1024) -> SeriesWriter:
    return SeriesWriter(
        InfluxTransport(url, "test-token", "eldercare", "eldercare", timeout_ms=2000),
        DiskSpool(spool_dir, max_bytes),
        service="test",
        clock=SimulatedClock(),
        batch_size=250,
        flush_interval_s=0.05,
        retry_interval_s=0.2,
        stats_interval_s=3600,
    )


async def wait_until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_thousands_of_points_read_back_exactly(
    victoria: LocalVictoriaMetrics, tmp_path: Path
) -> None:
    written = points(3000)
    async with make_writer(victoria.url, tmp_path / "spool") as writer:
        for start in range(0, len(written), 100):
            writer.write(written[start : start + 100])
        await wait_until(lambda: writer.written == len(written))
    assert writer.counters() | {"spool_bytes": 0} == {
        "written": 3000,
        "spooled": 0,
        "replayed": 0,
        "dropped": 0,
        "rejected": 0,
        "spool_points": 0,
        "spool_bytes": 0,
    }
    stored = victoria.export()
    expected = expected_samples(written)
    assert stored == expected
    # Every kind of point made it, with its room tag where the device has one.
    names = {name for name, *_ in stored}
    assert {"event_count", "telemetry_value", "telemetry_svm_peak", "device_status_online"} <= names
    assert any(("room", "bedroom") in labels for _, labels, *_ in stored)


@pytest.mark.slow
async def test_server_killed_mid_stream_loses_nothing(
    victoria: LocalVictoriaMetrics, tmp_path: Path
) -> None:
    """Stop the server while writing, keep writing, start it again: all points arrive."""
    total = points(6000)
    async with make_writer(victoria.url, tmp_path / "spool") as writer:
        for round_, start in enumerate(range(0, len(total), 100)):
            writer.write(total[start : start + 100])
            await asyncio.sleep(0.02)
            if round_ == 15:
                await asyncio.to_thread(victoria.stop)
            if round_ == 40:
                await wait_until(lambda: writer.spool.points > 0)  # the outage was noticed
                await asyncio.to_thread(victoria.start)
        await wait_until(lambda: writer.written == len(total) and not writer.spool.points)
    assert writer.spooled > 0
    assert writer.replayed == writer.spooled
    assert writer.dropped == 0
    assert writer.rejected == 0
    stored = victoria.export()
    assert sum(stored.values()) == sum(expected_samples(total).values())
    assert stored == expected_samples(total)


async def test_restart_with_full_spool_replays_it(
    victoria: LocalVictoriaMetrics, tmp_path: Path
) -> None:
    """Our process stops during an outage; the next one finds the spool and replays it."""
    spool_dir = tmp_path / "spool"
    dead = f"http://127.0.0.1:{free_port()}"
    first = points(1200)
    async with make_writer(dead, spool_dir) as writer:
        writer.write(first)
        await wait_until(lambda: writer.spool.points == len(first))
    assert (writer.written, writer.spooled, writer.dropped) == (0, 1200, 0)
    assert sorted(path.suffix for path in spool_dir.iterdir()) == [".lp"] * len(writer.spool)

    later = points(300, first=1200)
    async with make_writer(victoria.url, spool_dir) as writer:
        assert writer.spool.points == 1200
        writer.write(later)
        await wait_until(lambda: writer.written == 1500)
    assert writer.replayed == 1200
    assert victoria.export() == expected_samples(first + later)
    assert not list(spool_dir.iterdir())


async def test_spool_bound_drops_oldest_and_counts(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    sent = points(2000)
    lines = [to_line(point) for point in sent]
    bound = 40_000
    with capture_logs() as logs:
        async with make_writer(dead, tmp_path / "spool", max_bytes=bound) as writer:
            writer.write(sent)
            await wait_until(lambda: writer.spooled == len(sent))
    assert writer.dropped > 0
    assert writer.spool.size <= bound
    assert writer.spool.points + writer.dropped == len(sent)
    # The newest points are the ones kept, in order.
    kept = DiskSpool(tmp_path / "spool", bound)
    held: list[str] = []
    while (segment := kept.oldest()) is not None:
        held.extend(segment.lines())
        kept.remove(segment)
    assert held == lines[-len(held) :]
    warned = [entry for entry in logs if entry["event"] == "series_spool_full_dropped_oldest"]
    assert sum(entry["points"] for entry in warned) == writer.dropped
    assert warned[-1]["dropped"] == writer.dropped

"""Points, line protocol, the disk spool, and how HTTP answers map to spool / reject."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from eldercare.broker import free_port
from eldercare.clock import SimulatedClock
from eldercare.models import (
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Metric,
    SeriesPoint,
    Telemetry,
)
from eldercare.series_points import (
    UnwritablePoint,
    epoch_ms,
    event_point,
    quarantine_point,
    status_point,
    telemetry_point,
    to_line,
)
from eldercare.series_spool import DiskSpool
from eldercare.settings import Environment, Settings
from eldercare.timeseries import InfluxTransport, PointsRejected, SeriesWriter, ServerUnavailable

AT = datetime(2026, 11, 25, 8, 14, 3, 120000, tzinfo=UTC)


def test_event_point_has_tags_typed_fields_and_event_time() -> None:
    event = Event(
        home="h-0001",
        device="btn-hall",
        seq=4711,
        ts=AT,
        type=EventType.CALL_BUTTON,
        value={"press": "single", "level": 3, "cancelled": False},
    )
    point = event_point(event, room="hall")
    assert point.measurement == "event"
    assert point.tags == {
        "home": "h-0001",
        "device": "btn-hall",
        "room": "hall",
        "type": "call_button",
    }
    assert point.fields == {"count": 1, "seq": 4711, "value_level": 3.0, "value_cancelled": False}
    assert isinstance(point.fields["value_level"], float)  # never int one day, float the next
    assert to_line(point) == (
        "event,device=btn-hall,home=h-0001,room=hall,type=call_button "
        "count=1i,seq=4711i,value_cancelled=false,value_level=3 1795594443120"
    )


def test_telemetry_points_summarise_accelerometer_windows() -> None:
    temperature = Telemetry(
        home="h-1", device="t", seq=1, ts=AT, metric=Metric.TEMPERATURE, value=21
    )
    assert telemetry_point(temperature).fields == {"seq": 1, "value": 21.0}
    assert "room" not in telemetry_point(temperature).tags
    accel = Telemetry(
        home="h-1",
        device="pendant",
        seq=2,
        ts=AT,
        metric=Metric.ACCEL,
        rate_hz=50,
        samples=[(0.0, 0.0, 1.0), (3.0, 4.0, 0.0)],
    )
    point = telemetry_point(accel)
    assert point.tags["type"] == "accel"
    assert point.fields == {
        "seq": 2,
        "samples": 2,
        "rate_hz": 50.0,
        "svm_peak": 5.0,
        "svm_mean": 3.0,
    }


def test_status_and_quarantine_points() -> None:
    will = DeviceStatus(home="h-1", device="pir", state=DeviceState.OFFLINE)
    point = status_point(will, at=AT, room="hall")
    assert (point.ts, point.fields, point.tags["type"]) == (AT, {"online": False}, "offline")
    rejected = quarantine_point("schema: seq missing", AT, home="h-1")
    assert rejected.tags == {"home": "h-1", "type": "schema"}
    assert rejected.fields == {"count": 1}


def test_epoch_ms_is_exact_where_float_conversion_is_not() -> None:
    # influxdb-client's own datetime conversion writes ...13041 for this instant.
    at = datetime(2026, 11, 23, 15, 55, 13, 42000, tzinfo=UTC)
    assert epoch_ms(at) == 1795449313042
    assert to_line(status_point(DeviceStatus(home="h", device="d", state="online"), at)).endswith(
        " 1795449313042"
    )


def test_spool_keeps_order_across_reopen_and_discards_torn_writes(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, 10_000)
    spool.append(["a 1", "b 2"])
    spool.append(["c 3"])
    (tmp_path / "0000000000000002-5.tmp").write_text("half a batch")
    reopened = DiskSpool(tmp_path, 10_000)
    assert (reopened.points, len(reopened)) == (3, 2)
    assert not list(tmp_path.glob("*.tmp"))
    reopened.append(["d 4"])
    batches = []
    while (segment := reopened.oldest()) is not None:
        batches.append(segment.lines())
        reopened.remove(segment)
    assert batches == [["a 1", "b 2"], ["c 3"], ["d 4"]]
    assert (reopened.points, reopened.size) == (0, 0)


def test_spool_drops_oldest_when_full_and_trims_an_oversized_batch(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, 12)
    assert spool.append(["aaaa", "bbbb"]) == 0  # 9 bytes
    assert spool.append(["cccc"]) == 2  # 9 + 4 > 12: the oldest segment goes
    assert spool.append(["dddd", "eeee", "ffff"]) == 2  # 14 > 12: keep the newest lines
    assert (spool.points, spool.dropped) == (2, 4)
    assert spool.oldest().lines() == ["eeee", "ffff"]  # type: ignore[union-attr]
    assert spool.size <= 12


class _Answer(BaseHTTPRequestHandler):
    status = 204

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server whose every answer is ``server.status``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.status = 204  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (204, None),
        (500, ServerUnavailable),
        (503, ServerUnavailable),
        (429, ServerUnavailable),
        (401, ServerUnavailable),  # a wrong token is fixed by an operator; keep the data
        (404, ServerUnavailable),  # bucket not created yet
        (400, PointsRejected),
        (422, PointsRejected),
    ],
)
def test_http_answers_map_to_retry_or_reject(
    http_server: ThreadingHTTPServer, status: int, error: type[Exception] | None
) -> None:
    http_server.status = status  # type: ignore[attr-defined]
    transport = InfluxTransport(
        f"http://127.0.0.1:{http_server.server_port}", "t", "o", "b", timeout_ms=2000
    )
    try:
        if error is None:
            transport.send(["m f=1 1"])
        else:
            with pytest.raises(error):
                transport.send(["m f=1 1"])
    finally:
        transport.close()


async def test_writer_spools_on_5xx_and_counts_rejects_on_4xx(
    http_server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    http_server.status = 503  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{http_server.server_port}"
    writer = SeriesWriter(
        InfluxTransport(url, "t", "o", "b", timeout_ms=2000),
        DiskSpool(tmp_path, 1_000_000),
        service="test",
        clock=SimulatedClock(),
        flush_interval_s=0.02,
        retry_interval_s=0.05,
        stats_interval_s=3600,
    )
    will = DeviceStatus(home="h", device="d", state="offline")
    with capture_logs() as logs:
        async with writer:
            writer.write([status_point(will, AT)] * 5)
            await writer.flush()
            assert (writer.spooled, writer.spool.points, writer.written) == (5, 5, 0)
            http_server.status = 400  # type: ignore[attr-defined]
            await asyncio.sleep(0.1)
            await writer.flush()
    assert (writer.rejected, writer.spool.points, writer.written) == (5, 0, 0)
    events = [entry["event"] for entry in logs]
    assert "series_server_unavailable" in events
    assert "series_points_rejected" in events


def test_production_with_influx_needs_a_token() -> None:
    with pytest.raises(ValueError, match="ELDERCARE_INFLUX_TOKEN"):
        Settings(
            environment=Environment.PRODUCTION,
            secret_key="x" * 32,
            database_url="postgresql+asyncpg://db/eldercare",
            influx_url="http://influxdb:8086",
        )
    settings = Settings(influx_url="http://influxdb:8086", data_dir=Path("/var/lib/ec"))
    assert settings.spool_dir("gateway") == Path("/var/lib/ec/spool/gateway")


async def test_writer_stops_even_when_cancelled_as_a_batch_wakes_it(tmp_path: Path) -> None:
    """Stop right after a full batch set the wake-up event: every time, the writer ends and
    the batch is accounted for (Python 3.11's ``wait_for`` lost such cancellations)."""
    dead = f"http://127.0.0.1:{free_port()}"
    will = DeviceStatus(home="h", device="d", state="offline")
    for round_ in range(30):
        writer = SeriesWriter(
            InfluxTransport(dead, "t", "o", "b", timeout_ms=1000),
            DiskSpool(tmp_path / str(round_), 1_000_000),
            service="test",
            clock=SimulatedClock(),
            batch_size=10,
            flush_interval_s=0.01 * (round_ % 3),
            stats_interval_s=3600,
        )
        task = asyncio.create_task(writer.run())
        await asyncio.sleep(0.001 * (round_ % 5))
        writer.write([status_point(will, AT)] * 10)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, f"round {round_}: the writer ignored its cancellation"
        assert writer.spooled + writer.written == 10


def test_non_finite_values_are_left_out_not_sent_to_spoil_a_batch() -> None:
    accel = Telemetry(
        home="h",
        device="pendant",
        seq=3,
        ts=AT,
        metric=Metric.ACCEL,
        rate_hz=50,
        samples=[(float("inf"), 0.0, 1.0)],
    )
    line = to_line(telemetry_point(accel))
    assert "svm" not in line and "inf" not in line
    assert "samples=1i" in line
    with pytest.raises(UnwritablePoint):
        to_line(SeriesPoint(measurement="score", fields={"p": float("nan")}, ts=AT))


async def test_unreadable_spool_segment_is_counted_not_blocking(tmp_path: Path) -> None:
    (tmp_path / "0000000000000000-3.lp").write_bytes(b"\xff\xfe not utf-8")
    writer = SeriesWriter(
        InfluxTransport(f"http://127.0.0.1:{free_port()}", "t", "o", "b"),
        DiskSpool(tmp_path, 1_000_000),
        service="test",
        clock=SimulatedClock(),
        stats_interval_s=3600,
    )
    with capture_logs() as logs:
        await writer.flush()
    assert (writer.dropped, writer.spool.points) == (3, 0)
    assert [entry["event"] for entry in logs] == ["series_spool_segment_unreadable"]


def test_replicas_sharing_a_volume_each_spool_apart() -> None:
    settings = Settings(data_dir=Path("/var/lib/ec"), replicas=True, instance_id="det-2")
    assert settings.spool_dir("detector") == Path("/var/lib/ec/spool/detector-det-2")

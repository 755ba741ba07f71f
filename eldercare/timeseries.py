"""Time series to InfluxDB (or anything speaking its v2 write API) that never loses a point.

The points themselves are built in ``eldercare/series_points.py``; this module sends them,
spools what the server does not take, and replays it.

Why our own batching loop over influxdb-client's *synchronous* write call, instead of its
batching ``WriteApi``: that one keeps batches in memory while it retries (up to
``max_retry_time``, 180 s by default, blocking its thread), sends batches concurrently
(``merge_all``) so completions arrive out of order, and its ``flush()`` is a no-op (a
"TODO" in 1.50), so there is no point at which we know what the server holds. Here a batch
is either acknowledged (2xx), or rejected as malformed (4xx, counted and logged), or put
into the disk spool, in order, before the next batch is looked at. Retry pacing uses wall
time on purpose: it is about a server coming back, not about a resident's day.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator
from enum import Enum
from typing import Protocol, Self

import urllib3
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.metrics import SERIES_POINTS, SERIES_SPOOL_BYTES, SERIES_SPOOL_POINTS, Reading
from eldercare.models import SeriesPoint
from eldercare.series_points import UnwritablePoint, to_line
from eldercare.series_spool import DiskSpool
from eldercare.settings import Settings

log = get_logger("timeseries")

#: Statuses after which the same batch may succeed later: the server is down, overloaded,
#: or misconfigured (token, bucket) in a way an operator fixes without touching the data.
_RETRYABLE_STATUS = frozenset({401, 403, 404, 408, 429})


# --- transport ----------------------------------------------------------------------------


class ServerUnavailable(Exception):
    """The batch may succeed later: keep it (spool) and retry."""


class PointsRejected(Exception):
    """The server refused the data itself (malformed, type conflict): retrying cannot help."""


class Transport(Protocol):
    def send(self, lines: list[str]) -> None: ...

    def close(self) -> None: ...


class InfluxTransport:
    """One synchronous write per call through influxdb-client; errors mapped to two kinds."""

    def __init__(self, url: str, token: str, org: str, bucket: str, timeout_ms: int = 10_000):
        self.org = org
        self.bucket = bucket
        self._client = InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms)
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def send(self, lines: list[str]) -> None:
        try:
            self._api.write(
                self.bucket, self.org, record="\n".join(lines), write_precision=WritePrecision.MS
            )
        except ApiException as error:
            status = int(error.status or 0)
            if status >= 500 or status in _RETRYABLE_STATUS:
                raise ServerUnavailable(f"HTTP {status} {error.reason}") from error
            raise PointsRejected(f"HTTP {status}: {error.body!r}"[:500]) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise ServerUnavailable(f"{type(error).__name__}: {error}") from error

    def close(self) -> None:
        self._client.close()


# --- writer -------------------------------------------------------------------------------


class _Outcome(Enum):
    WRITTEN = "written"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"


class SeriesWriter:
    """A ``PointSink``: ``write`` never blocks; a task batches, sends, spools and replays.

    Counters (cumulative, points): ``written`` acknowledged by the server (``replayed`` of
    them came from the spool), ``spooled`` put into the spool, ``dropped`` lost to the spool
    bound or to a failing disk, ``rejected`` refused by the server as malformed. Every
    point handed to ``write`` ends in exactly one of written, dropped, rejected, the spool
    (``spool_points``) or the in-memory queue (``pending``).
    """

    #: Spool segments replayed per round, so new points are not starved behind a long replay.
    REPLAY_SEGMENTS_PER_ROUND = 20

    def __init__(
        self,
        transport: Transport,
        spool: DiskSpool,
        *,
        service: str,
        clock: Clock,
        batch_size: int = 1000,
        flush_interval_s: float = 1.0,
        retry_interval_s: float = 5.0,
        stats_interval_s: float = 60.0,
    ) -> None:
        self.transport = transport
        self.spool = spool
        self.service = service
        self.clock = clock
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_interval_s = retry_interval_s
        self.stats_interval_s = stats_interval_s
        self.written = 0
        self.spooled = 0
        self.replayed = 0
        self.rejected = 0
        self.lost_to_disk = 0
        self.available = True
        self._pending: deque[SeriesPoint] = deque()
        self._retry_at = 0.0
        self._stats_at = time.monotonic() + stats_interval_s
        self._wake: asyncio.Event | None = None
        self._flushing = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        if spool.points:
            log.warning(
                "series_spool_found",
                service=service,
                spool_points=spool.points,
                spool_bytes=spool.size,
            )

    # The PointSink protocol.
    def write(self, points: list[SeriesPoint]) -> None:
        self._pending.extend(points)
        if self._wake is not None and len(self._pending) >= self.batch_size:
            self._wake.set()

    @property
    def dropped(self) -> int:
        return self.spool.dropped + self.lost_to_disk

    @property
    def pending(self) -> int:
        return len(self._pending)

    def counters(self) -> dict[str, int]:
        return {
            "written": self.written,
            "spooled": self.spooled,
            "replayed": self.replayed,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "spool_points": self.spool.points,
            "spool_bytes": self.spool.size,
        }

    async def run(self) -> None:
        """Flush every ``flush_interval_s`` (sooner when a batch is full) until cancelled;
        then a last flush, so a clean stop leaves every point written or spooled."""
        self._wake = asyncio.Event()
        try:
            while True:
                # Not ``wait_for``: on Python 3.11 it can lose a cancellation that races the
                # event (seen here: the writer never stopped), ``timeout()`` does not.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.flush_interval_s):
                        await self._wake.wait()
                self._wake.clear()
                try:
                    await self.flush()
                except Exception:
                    # Never take the gateway or detector down with us; the points stay queued.
                    log.exception("series_flush_failed", service=self.service)
                    await asyncio.sleep(self.retry_interval_s)
                if self.spool.points and self.available:
                    self._wake.set()  # the server is back: keep replaying without a pause
        finally:
            await asyncio.to_thread(self._flush_locked, True)
            self.transport.close()
            log.info("series_writer_stopped", service=self.service, **self.counters())

    async def flush(self) -> None:
        """Replay what is due and send (or spool) everything queued so far."""
        await asyncio.to_thread(self._flush_locked, False)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.run(), name=f"series-{self.service}")
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # Below runs in a worker thread, one flush at a time (a cancelled ``to_thread`` keeps
    # running, so the final flush waits for it on the lock instead of racing it).

    def _flush_locked(self, final: bool) -> None:
        with self._flushing:
            if not final:
                self._replay()
            while self._pending:
                count = min(self.batch_size, len(self._pending))
                batch = [self._pending.popleft() for _ in range(count)]
                lines = self._encode(batch)
                if not lines:
                    continue
                if self.spool.points or (final and not self.available):
                    self._to_spool(lines)  # behind older points: order is kept
                elif self._send(lines) is _Outcome.UNAVAILABLE:
                    self._to_spool(lines)
            self._maybe_stats(final)

    def _encode(self, batch: list[SeriesPoint]) -> list[str]:
        lines = []
        for point in batch:
            try:
                lines.append(to_line(point))
            except UnwritablePoint as error:
                self.rejected += 1
                log.error(
                    "series_point_unwritable",
                    service=self.service,
                    error=str(error),
                    tags=point.tags,
                )
        return lines

    def _replay(self) -> None:
        for _ in range(self.REPLAY_SEGMENTS_PER_ROUND):
            segment = self.spool.oldest()
            if segment is None or time.monotonic() < self._retry_at:
                return
            try:
                lines = segment.lines()
            except (OSError, UnicodeDecodeError) as error:
                # Unreadable (disk fault, edited by hand): it would block the replay forever.
                self.spool.remove(segment)
                self.lost_to_disk += segment.count
                log.error(
                    "series_spool_segment_unreadable",
                    service=self.service,
                    path=str(segment.path),
                    error=str(error),
                    **self.counters(),
                )
                continue
            outcome = self._send(lines)
            if outcome is _Outcome.UNAVAILABLE:
                return
            self.spool.remove(segment)
            if outcome is _Outcome.WRITTEN:
                self.replayed += segment.count
            if not self.spool.points:
                log.info("series_spool_replayed", service=self.service, **self.counters())

    def _send(self, lines: list[str]) -> _Outcome:
        try:
            self.transport.send(lines)
        except Exception as error:
            if isinstance(error, PointsRejected):
                self.rejected += len(lines)
                log.error(
                    "series_points_rejected",
                    service=self.service,
                    points=len(lines),
                    error=str(error),
                    first=lines[0][:200],
                )
                return _Outcome.REJECTED
            # ServerUnavailable, or anything unforeseen from the client library: keep the data.
            if self.available:
                log.warning(
                    "series_server_unavailable",
                    service=self.service,
                    error=f"{type(error).__name__}: {error}",
                    **self.counters(),
                )
            self.available = False
            self._retry_at = time.monotonic() + self.retry_interval_s
            return _Outcome.UNAVAILABLE
        if not self.available:
            log.info("series_server_back", service=self.service, **self.counters())
        self.available = True
        self.written += len(lines)
        return _Outcome.WRITTEN

    def _to_spool(self, lines: list[str]) -> None:
        try:
            dropped = self.spool.append(lines)
        except OSError as error:
            self.lost_to_disk += len(lines)
            log.error(
                "series_spool_write_failed",
                service=self.service,
                points=len(lines),
                error=str(error),
                **self.counters(),
            )
            return
        self.spooled += len(lines)
        if dropped:
            log.warning(
                "series_spool_full_dropped_oldest",
                service=self.service,
                points=dropped,
                **self.counters(),
            )

    def _maybe_stats(self, final: bool) -> None:
        """The writer's own counters become a point, so Grafana shows the spool too."""
        if not final and time.monotonic() < self._stats_at:
            return
        self._stats_at = time.monotonic() + self.stats_interval_s
        log.info("series_writer_stats", service=self.service, **self.counters())
        if not final:
            self._pending.append(self.stats_point())

    def readings(self) -> Iterator[Reading]:
        """The counters for ``/metrics``, live: the stats point comes once a minute, and it
        cannot reach InfluxDB during the very outage that fills the spool."""
        counters = self.counters()
        for outcome in ("written", "spooled", "replayed", "dropped", "rejected"):
            yield SERIES_POINTS, (self.service, outcome), counters[outcome]
        yield SERIES_SPOOL_POINTS, (self.service,), counters["spool_points"]
        yield SERIES_SPOOL_BYTES, (self.service,), counters["spool_bytes"]

    def stats_point(self) -> SeriesPoint:
        return SeriesPoint(
            measurement="series_writer",
            tags={"service": self.service},
            fields=dict(self.counters()),
            ts=self.clock.now(),
        )


def series_writer(settings: Settings, service: str, clock: Clock) -> SeriesWriter | None:
    """The writer a service runs (``run()`` as a task), or None when no InfluxDB is set."""
    if not settings.influx_url:
        return None
    transport = InfluxTransport(
        settings.influx_url,
        settings.influx_token.get_secret_value() if settings.influx_token else "",
        settings.influx_org,
        settings.influx_bucket,
    )
    spool = DiskSpool(settings.spool_dir(service), settings.series_spool_max_bytes)
    return SeriesWriter(transport, spool, service=service, clock=clock)

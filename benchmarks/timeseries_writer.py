"""Time-series writer throughput: to a live victoria-metrics, and into the spool (outage).

    .venv/bin/python -m benchmarks.timeseries_writer [POINTS]

Prints points per second for (a) the normal path, batches acknowledged by the server, and
(b) an outage, batches going to the disk spool (fsync per batch). Both include the
line-protocol encoding in the writer's thread; the points are built before the clock starts.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from eldercare.broker import free_port
from eldercare.clock import RealClock
from eldercare.series_spool import DiskSpool
from eldercare.timeseries import InfluxTransport, SeriesWriter
from tests.series_data import points
from tests.victoria import LocalVictoriaMetrics


async def measure(url: str, spool_dir: Path, count: int, done: str) -> float:
    series = points(count)
    writer = SeriesWriter(
        InfluxTransport(url, "bench", "eldercare", "eldercare"),
        DiskSpool(spool_dir, 1 << 30),
        service="bench",
        clock=RealClock(),
        retry_interval_s=0.5,
        stats_interval_s=3600,
    )
    started = time.perf_counter()
    async with writer:
        for start in range(0, count, 500):
            writer.write(series[start : start + 500])
            await asyncio.sleep(0)
        deadline = started + 120
        while getattr(writer, done) < count:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{done} stuck: {writer.counters()} pending={writer.pending}")
            await writer.flush()
    return count / (time.perf_counter() - started)


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as scratch, LocalVictoriaMetrics() as server:
        written = await measure(server.url, Path(scratch) / "a", count, "written")
        dead = f"http://127.0.0.1:{free_port()}"
        spooled = await measure(dead, Path(scratch) / "b", count, "spooled")
    print(f"points={count} written_per_s={written:,.0f} spooled_per_s={spooled:,.0f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))

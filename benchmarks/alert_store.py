"""What storing one alert costs in alerting's intake: database statements and time.

    python benchmarks/alert_store.py [--alerts 300] [--busy-tasks 4 --busy-ms 2] [--postgres URL]

Stores ``--alerts`` alerts through ``AlertingApi.record`` (what ``AlertIntake`` calls for an
alert from MQTT: the alert row, its trigger, its timeline row and its escalation timers in
one transaction) on a fresh SQLite file, and on PostgreSQL when ``--postgres`` names a
server (a throw-away database is created on it and dropped). Three passes, each over its
own homes, as a burst does it: new alerts (a district power cut's ``home_offline``, each
home one alert), the same alerts again (QoS 1 redeliveries after a restart: stored once),
and a second trigger of each (attached to the open alert). Per pass: statements per alert
(counted with a ``before_cursor_execute`` listener, ``executemany`` counted once: one trip
to the driver), the statements' distinct shapes, hand-overs to a database thread per alert
(aiosqlite's, and ``eldercare.db.one_call``'s), ms per alert (wall, one at a time as the
intake stores them: mean, median, p99) and this process's CPU ms per alert (all its
threads, aiosqlite's included; less at the mercy of a shared machine's load than the wall
time; PostgreSQL's own work is not in it). Prints one JSON object.

``--busy-tasks N --busy-ms M``: N tasks share the event loop with the stores, each holding
it for M ms of CPU per turn, as the alerting service's other connections and loops do
under load: every hand-over's answer then waits for up to N × M ms before the store goes
on, which is what a store made of many hand-overs paid at 10 000 homes (issue 18).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.api import AlertingApi
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.models import Alert, AlertKind, Evidence, LocalizedText, Severity
from gateway.registry import Registry
from simulator.demo_people import registry_document
from simulator.layout import STANDARD_DEVICES

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


class Statements:
    """Counts the statements sent to ``engine``'s database, by their first words (their
    shape), through any engine on it: alerting stores an alert on SQLite through a sync
    engine of its own (``eldercare.db.one_call``). ``close`` stops counting."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.shapes: Counter[str] = Counter()
        self.url = engine.url
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        url = conn.engine.url
        if (url.get_backend_name(), url.host, url.database) == (
            self.url.get_backend_name(),
            self.url.host,
            self.url.database,
        ):
            self.shapes[" ".join(statement.split()[:4])] += 1

    def close(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)

    def take(self) -> Counter[str]:
        """The statements since the last call."""
        taken, self.shapes = self.shapes, Counter()
        return taken

    def total(self) -> int:
        """How many statements since the last call."""
        return sum(self.take().values())


@contextlib.contextmanager
def hand_overs() -> Iterator[Callable[[], int]]:
    """Counts the work handed to a database thread: each of aiosqlite's calls, and each
    submission to a thread pool (``eldercare.db.one_call`` runs a whole store as one)."""
    count = 0
    run_on_aiosqlite = aiosqlite.Connection._execute
    submit = ThreadPoolExecutor.submit

    async def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return await run_on_aiosqlite(self, *args, **kwargs)

    def counted_submit(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return submit(self, *args, **kwargs)

    def taken() -> int:
        nonlocal count
        taken, count = count, 0
        return taken

    aiosqlite.Connection._execute = counted_execute  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = counted_submit  # type: ignore[method-assign]
    try:
        yield taken
    finally:
        aiosqlite.Connection._execute = run_on_aiosqlite  # type: ignore[method-assign]
        ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]


async def hold_the_loop(ms: float) -> None:
    """Hold the event loop for ``ms`` of CPU, let others run, again, until cancelled."""
    while True:
        until = time.perf_counter() + ms / 1000
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0)


def burst(homes: list[str], prefix: str) -> list[Alert]:
    """One ``home_offline`` per home, as a power cut across a district raises them."""
    return [
        Alert(
            alert_id=f"{prefix}-{home}",
            home=home,
            kind=AlertKind.HOME_OFFLINE,
            severity=Severity.HIGH,
            raised_at=START,
            evidence=[Evidence(device="gw", seq=1, type="home_offline")],
            explanation=LocalizedText(zh_cn="家庭网关离线", en="Home gateway offline"),
        )
        for home in homes
    ]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the value ``share`` of ``values`` are at or below."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


async def registered_homes(url: str, count: int) -> tuple[AsyncEngine, list[str]]:
    """A migrated database with ``count`` of the bench's homes, stations and people (the
    policy's tiers resolve through them); the engine and the homes' ids."""
    engine = create_engine(url)
    await migrate(engine)
    homes = [f"h-{n:05d}" for n in range(count)]
    await Registry(engine, SimulatedClock(START)).apply(
        registry_document([(home, STANDARD_DEVICES) for home in homes], 9)
    )
    return engine, homes


async def measure(url: str, alerts: int, busy_tasks: int = 0, busy_ms: float = 0) -> dict[str, Any]:
    engine, homes = await registered_homes(url, alerts)
    api = AlertingApi(engine, SimulatedClock(START))
    counted = Statements(engine)
    passes: dict[str, Any] = {}
    busy = [asyncio.create_task(hold_the_loop(busy_ms)) for _ in range(busy_tasks)]
    try:
        with hand_overs() as handed:
            for name, batch in (
                ("new", burst(homes, "A")),
                ("redelivered", burst(homes, "A")),
                ("attached", burst(homes, "B")),
            ):
                counted.take()
                handed()
                each: list[float] = []
                began_cpu = time.process_time()
                for alert in batch:
                    began = time.perf_counter()
                    await api.record(alert)
                    each.append((time.perf_counter() - began) * 1000)
                cpu = time.process_time() - began_cpu
                shapes = counted.take()
                passes[name] = {
                    "statements_per_alert": round(sum(shapes.values()) / len(batch), 2),
                    "hand_overs_per_alert": round(handed() / len(batch), 2),
                    "ms_per_alert": round(sum(each) / len(batch), 2),
                    "ms_p50": round(statistics.median(each), 2),
                    "ms_p99": round(percentile(each, 0.99), 2),
                    "cpu_ms_per_alert": round(cpu * 1000 / len(batch), 2),
                    "shapes": dict(shapes.most_common()),
                }
    finally:
        for task in busy:
            task.cancel()
        counted.close()
        await engine.dispose()
    return passes


async def on_postgres(server: str, alerts: int, busy_tasks: int, busy_ms: float) -> dict[str, Any]:
    name = f"eldercare_bench_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(server)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        return await measure(f"{base}/{name}", alerts, busy_tasks, busy_ms)
    finally:
        connection = await asyncpg.connect(server)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def add_busy_options(parser: argparse.ArgumentParser) -> None:
    """``--busy-tasks`` and ``--busy-ms`` (``hold_the_loop``), shared by the benchmarks."""
    parser.add_argument("--busy-tasks", type=int, default=0, help="tasks sharing the loop")
    parser.add_argument("--busy-ms", type=float, default=2.0, help="CPU ms each holds per turn")


def on_sqlite(
    run: Callable[[str, int, int, float], Awaitable[dict[str, Any]]],
    count: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """``run(url, count, busy_tasks, busy_ms)`` on a fresh SQLite file, with the settings
    and the machine's load average."""

    async def measured() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'eldercare.db'}"
            return await run(url, count, args.busy_tasks, args.busy_ms)

    return {
        "busy_tasks": args.busy_tasks,
        "busy_ms": args.busy_ms if args.busy_tasks else 0,
        "load_average": os.getloadavg(),
        "sqlite": asyncio.run(measured()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    add_busy_options(parser)
    parser.add_argument("--postgres", help="e.g. postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    result = {"alerts": args.alerts, **on_sqlite(measure, args.alerts, args)}
    if args.postgres:
        result["postgresql"] = asyncio.run(
            on_postgres(args.postgres, args.alerts, args.busy_tasks, args.busy_ms)
        )
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

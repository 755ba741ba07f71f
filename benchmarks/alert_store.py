"""What storing one alert costs in alerting's intake: database statements and time.

    python benchmarks/alert_store.py [--alerts 300] [--postgres URL]

Stores ``--alerts`` alerts through ``AlertingApi.record`` (what ``AlertIntake`` calls for an
alert from MQTT: the alert row, its trigger, its timeline row and its escalation timers in
one transaction) on a fresh SQLite file, and on PostgreSQL when ``--postgres`` names a
server (a throw-away database is created on it and dropped). Three passes, each over its
own homes, as a burst does it: new alerts (a district power cut's ``home_offline``, each
home one alert), the same alerts again (QoS 1 redeliveries after a restart: stored once),
and a second trigger of each (attached to the open alert). Per pass: statements per alert
(counted with a ``before_cursor_execute`` listener, ``executemany`` counted once: one trip
to the driver), the statements' distinct shapes, ms per alert (wall, one at a time as the
intake stores them) and this process's CPU ms per alert (all its threads, aiosqlite's
included; less at the mercy of a shared machine's load than the wall time; PostgreSQL's
own work is not in it). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
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
    """Counts the statements an engine sends, by their first words (their shape)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.shapes: Counter[str] = Counter()
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.shapes[" ".join(statement.split()[:4])] += 1

    def take(self) -> Counter[str]:
        """The statements since the last call."""
        taken, self.shapes = self.shapes, Counter()
        return taken

    def total(self) -> int:
        """How many statements since the last call."""
        return sum(self.take().values())


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


async def measure(url: str, alerts: int) -> dict[str, Any]:
    engine = create_engine(url)
    await migrate(engine)
    homes = [f"h-{n:05d}" for n in range(alerts)]
    # The bench's homes, stations and people (the policy's tiers resolve through them).
    await Registry(engine, SimulatedClock(START)).apply(
        registry_document([(home, STANDARD_DEVICES) for home in homes], 9)
    )
    api = AlertingApi(engine, SimulatedClock(START))
    counted = Statements(engine)
    passes: dict[str, Any] = {}
    try:
        for name, batch in (
            ("new", burst(homes, "A")),
            ("redelivered", burst(homes, "A")),
            ("attached", burst(homes, "B")),
        ):
            counted.take()
            began, began_cpu = time.perf_counter(), time.process_time()
            for alert in batch:
                await api.record(alert)
            took, cpu = time.perf_counter() - began, time.process_time() - began_cpu
            shapes = counted.take()
            passes[name] = {
                "statements_per_alert": round(sum(shapes.values()) / len(batch), 2),
                "ms_per_alert": round(took * 1000 / len(batch), 2),
                "cpu_ms_per_alert": round(cpu * 1000 / len(batch), 2),
                "shapes": dict(shapes.most_common()),
            }
    finally:
        await engine.dispose()
    return passes


async def on_postgres(server: str, alerts: int) -> dict[str, Any]:
    name = f"eldercare_bench_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(server)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        return await measure(f"{base}/{name}", alerts)
    finally:
        connection = await asyncpg.connect(server)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--postgres", help="e.g. postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result: dict[str, Any] = {
            "alerts": args.alerts,
            "load_average": os.getloadavg(),
            "sqlite": await measure(
                f"sqlite+aiosqlite:///{Path(folder) / 'eldercare.db'}", args.alerts
            ),
        }
    if args.postgres:
        result["postgresql"] = await on_postgres(args.postgres, args.alerts)
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())

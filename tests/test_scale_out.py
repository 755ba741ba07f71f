"""Acceptance (#18): two detector and two alerting instances as real processes on one
mosquitto and one PostgreSQL; one of each is killed (SIGKILL) mid-stream.

Every call-button press must still become exactly one stored alert and reach the station:
the surviving detector takes the dead one's shards when their leases lapse, connects under
the same per-shard client ids and gets the presses the broker queued for them; the standby
alerting instance takes the alerting lease and, with it, the persistent session
``eldercare-alerting`` and the alerts queued there.

Delivery to a provider is at least once, never exactly once: a kill between the provider's
"accepted" and the row being marked sent leaves a row whose lease lapses, and the standby
sends it again (CI caught 8 such in one run). What must hold is that such a re-send is the
same message under the same idempotency key, so a receiver that honours the key drops it,
and that no notification goes out more than twice (once by the dead instance, once by the
one that took over).

The processes run on a sped-up clock (``ELDERCARE_CLOCK_SPEED``) anchored at the test's
start, so a 40 clock-second lease lapses in 2 wall seconds; the whole test takes ~20 s.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting.service import CLIENT_ID as ALERTING_ID
from detector.alerts import stable_alert_id
from detector.service import CLIENT_ID as DETECTOR_ID
from detector.service import LANE_CLIENT_ID as DETECTOR_LANE_ID
from eldercare.broker import free_port
from eldercare.clock import ScaledClock
from eldercare.db import create_engine, migrate
from eldercare.db.models import AlertRow, ShardLeaseRow
from eldercare.metrics import ALERTS_RAISED, MQTT_CONNECTED
from eldercare.models import AlertKind, Event, EventType
from eldercare.settings import Settings
from eldercare.topics import Topics, shard_client_id
from tests.alerting_support import WebhookReceiver, seed_registry
from tests.harness import service_process, wait_for_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEED = 20.0
SHARDS = 8
HOMES = 32
LEASE_TTL_S = 40.0  # clock seconds: 2 wall seconds at SPEED
BUTTON = "btn-hall"


def start(
    service: str,
    instance: str,
    broker_url: str,
    db_url: str,
    anchor: datetime,
    folder: Path,
    **extra: str,
) -> subprocess.Popen:
    return service_process(
        service,
        folder / instance,
        folder / f"{instance}.log",
        ELDERCARE_BROKER_URL=broker_url,
        ELDERCARE_DATABASE_URL=db_url,
        ELDERCARE_CLOCK_SPEED=str(SPEED),
        ELDERCARE_CLOCK_ANCHOR=anchor.isoformat(),
        ELDERCARE_SECRET_KEY="scale-out-test-secret-of-at-least-32-chars",
        ELDERCARE_REPLICAS="true",
        ELDERCARE_INSTANCE_ID=instance,
        ELDERCARE_SHARD_COUNT=str(SHARDS),
        ELDERCARE_LEASE_TTL_S=str(LEASE_TTL_S),
        ELDERCARE_WATCHED_SERVICES="[]",  # no gateway here: its silence is not the subject
        ELDERCARE_LOG_LEVEL="INFO",
        **extra,
    )


async def owners(engine: AsyncEngine, scope: str) -> dict[int, str]:
    async with async_sessionmaker(engine)() as session:
        rows = await session.execute(
            select(ShardLeaseRow.shard, ShardLeaseRow.owner).where(ShardLeaseRow.scope == scope)
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"not within {timeout} s: {what}") from None


async def test_one_detector_and_one_alerting_killed_mid_stream_lose_and_repeat_nothing(
    mosquitto, postgres_url: str, tmp_path: Path
) -> None:
    engine = create_engine(postgres_url)
    await migrate(engine)
    anchor = datetime.now(UTC)
    clock = ScaledClock(anchor, SPEED)
    topics = Topics(shard_count=SHARDS)
    homes = [f"h-{n:04d}" for n in range(1, HOMES + 1)]
    processes: dict[str, subprocess.Popen] = {}
    survivor_metrics = free_port()
    try:
        async with WebhookReceiver() as hooks:
            await seed_registry(engine, hooks, clock.now(), homes=HOMES)
            for service, instance in (
                ("detector", "det-a"),
                ("alerting", "alert-a"),
                ("detector", "det-b"),
                ("alerting", "alert-b"),
            ):
                extra = (
                    {"ELDERCARE_METRICS_PORT": str(survivor_metrics)} if instance == "det-b" else {}
                )
                processes[instance] = start(
                    service, instance, mosquitto.url, postgres_url, anchor, tmp_path, **extra
                )
            sessions = [
                shard_client_id(base, n)
                for base in (DETECTOR_ID, DETECTOR_LANE_ID)
                for n in range(SHARDS)
            ]
            await wait_for_services(
                Settings(broker_url=mosquitto.url), [*sessions, ALERTING_ID], timeout=20
            )

            async def balanced() -> bool:
                held = Counter((await owners(engine, "detector")).values())
                return held == {"det-a": SHARDS // 2, "det-b": SHARDS // 2}

            await until(balanced, 15, "two detectors with half the shards each")
            [active] = (await owners(engine, "alerting")).values()
            standby = "alert-b" if active == "alert-a" else "alert-a"

            expected: set[str] = set()
            async with aiomqtt.Client("127.0.0.1", mosquitto.port) as gateway:
                for number, home in enumerate(homes):
                    if number == HOMES // 2:  # mid-stream: one detector, the active alerting
                        for victim in ("det-a", active):
                            processes[victim].send_signal(signal.SIGKILL)
                            processes[victim].wait(10)
                    press = Event(
                        home=home, device=BUTTON, seq=1, ts=clock.now(), type=EventType.CALL_BUTTON
                    )
                    key = f"{BUTTON}|1|{press.ts.isoformat()}"
                    expected.add(stable_alert_id(press.ts, home, AlertKind.CALL_BUTTON, key))
                    topic = topics.normalised(home, BUTTON, "event")
                    await gateway.publish(topic, press.to_json(), qos=1)
                    await asyncio.sleep(0.05)

            def first_tier() -> list[str]:
                return [r.key.split(".")[0] for r in hooks.to("/station/wang")]

            async def all_notified() -> bool:
                return set(first_tier()) >= expected

            await until(all_notified, 20, "every press notified")
            await asyncio.sleep(1.0)  # anything sent twice would arrive now

            assert set(first_tier()) == expected
            station_keys = {r.key for r in hooks.to("/station/wang")}
            assert Counter(key.split(".")[0] for key in station_keys) == dict.fromkeys(
                expected, 1
            ), "a re-sent first-tier notification must carry the original's idempotency key"
            async with async_sessionmaker(engine)() as session:
                stored = (await session.scalars(select(AlertRow.id))).all()
            assert sorted(stored) == sorted(expected)
            assert set((await owners(engine, "detector")).values()) == {"det-b"}
            assert list((await owners(engine, "alerting")).values()) == [standby]
            sends = Counter(r.key for r in hooks.received)
            assert max(sends.values()) <= 2, f"sent more than twice: {sends.most_common(3)}"

            # The survivor reports its shards' sessions and the alerts its shards raised.
            async with httpx.AsyncClient() as web:
                scraped = await web.get(f"http://127.0.0.1:{survivor_metrics}/metrics")
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(scraped.text)
                for sample in family.samples
            }
            for shard_session in sessions:
                connected = (MQTT_CONNECTED.exposed_name, (("service", shard_session),))
                assert samples[connected] == 1, shard_session
            raised = samples[(ALERTS_RAISED.exposed_name, (("kind", "call_button"),))]
            assert HOMES // 2 <= raised <= HOMES
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
        await engine.dispose()

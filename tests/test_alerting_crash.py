"""Acceptance: alerting as a real process, killed (SIGKILL) between tiers and restarted.

The process runs on a sped-up clock (``ELDERCARE_CLOCK_SPEED``) anchored at the test's
start, so the killed and the restarted process agree on the time: ten minutes of
escalation take fifteen seconds, and the restarted process must fire the next tier once,
at its due time, lose no alert, and send nothing twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting import leases
from alerting.api import AlertingApi
from alerting.escalation import Escalator
from alerting.service import CLIENT_ID
from alerting.signed_links import AckLinks
from eldercare.clock import ScaledClock
from eldercare.db import create_engine, migrate
from eldercare.db.models import AlertRow, EscalationTimerRow, NotificationRow
from eldercare.settings import Settings
from tests.alerting_support import WebhookReceiver, make_alert, seed_registry
from tests.harness import wait_for_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPEED = 40.0  # T+2 min after 3 s, T+10 min after 15 s


def start_alerting(
    broker_url: str, db_url: str, anchor: datetime, folder: Path
) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ELDERCARE_")}
    env.update(
        ELDERCARE_BROKER_URL=broker_url,
        ELDERCARE_DATABASE_URL=db_url,
        ELDERCARE_DATA_DIR=str(folder),
        ELDERCARE_CLOCK_SPEED=str(SPEED),
        ELDERCARE_CLOCK_ANCHOR=anchor.isoformat(),
        ELDERCARE_SECRET_KEY="crash-test-secret-of-at-least-32-chars",
        ELDERCARE_LOG_LEVEL="INFO",
    )
    log = (folder / "alerting.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-c", "from eldercare.app.cli import app; app()", "run", "alerting"],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=log,
    )


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


async def rows(engine: AsyncEngine, query):  # type: ignore[no-untyped-def]
    async with async_sessionmaker(engine)() as session:
        return (await session.execute(query)).all()


async def test_killed_between_tiers_the_restarted_process_fires_the_next_tier_once(
    mosquitto, tmp_path
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'eldercare.db'}"
    engine = create_engine(db_url)
    await migrate(engine)
    anchor = datetime.now(UTC)
    clock = ScaledClock(anchor, SPEED)  # the test's view of the process's time
    processes: list[subprocess.Popen] = []
    try:
        async with WebhookReceiver() as hooks:
            await seed_registry(engine, hooks, clock.now(), homes=2)
            processes.append(start_alerting(mosquitto.url, db_url, anchor, tmp_path))
            # its persistent session must exist before anything can wait in it
            await wait_for_services(Settings(broker_url=mosquitto.url), [CLIENT_ID], timeout=30)
            topics_prefix = "eldercare/v1"
            raised = clock.now()
            alert = make_alert("01JCRASH0000000000000000A1", raised)
            async with aiomqtt.Client("127.0.0.1", mosquitto.port) as detector:
                await detector.publish(f"{topics_prefix}/h-0001/alerts", alert.to_json(), qos=1)

                await hooks.wait_for("/station/wang", timeout=20)
                await hooks.wait_for("/family/lihua", timeout=20)  # T+2 min
                kill(processes[-1])
                killed_at = clock.now()
                assert killed_at - raised < timedelta(minutes=10), "too slow to test a crash"

                # raised while alerting is dead: waits in its persistent session
                second = make_alert("01JCRASH0000000000000000B2", clock.now(), home="h-0002")
                await detector.publish(f"{topics_prefix}/h-0002/alerts", second.to_json(), qos=1)

            processes.append(start_alerting(mosquitto.url, db_url, anchor, tmp_path))
            [second_station] = [
                r
                for r in await hooks.wait_for("/station/wang", count=2, timeout=20)
                if r.key.startswith(second.alert_id)
            ]
            restarted_by = clock.now()
            due = raised + timedelta(minutes=10)
            assert restarted_by < due, "restart took longer than the gap between tiers"
            [centre] = await hooks.wait_for("/centre/zhou", timeout=30)
            assert centre.key == f"{alert.alert_id}.t2.staff:zhou"
            await asyncio.sleep(1.0)  # anything duplicated would arrive now
            kill(processes[-1])

        # the next tier fired once, at its time (never early, at most a few clock-seconds late)
        timers = dict(
            await rows(
                engine,
                select(EscalationTimerRow.tier, EscalationTimerRow.fired_at).where(
                    EscalationTimerRow.alert_id == alert.alert_id
                ),
            )
        )
        assert timers[2] is not None
        late = (timers[2] - due).total_seconds()
        assert 0 <= late <= 45, late
        assert timers[3] is None  # emergency (T+20 min) not yet due

        # Nothing duplicated beyond the idempotency key: a message the killed process handed
        # to the receiver but had not yet recorded may come again, under the same key.
        keys = {r.key for r in hooks.received}
        sent = await rows(engine, select(NotificationRow.idempotency_key, NotificationRow.status))
        assert keys == {key for key, _ in sent}
        assert {status for _, status in sent} == {"sent"}
        first = sorted(
            key.removeprefix(alert.alert_id)
            for key in keys
            if key.startswith("01JCRASH0000000000000000A1")
        )
        assert first == [".t0.staff:wang", ".t1.contact:1", ".t1.contact:2", ".t2.staff:zhou"]

        # no alert lost
        stored = dict(await rows(engine, select(AlertRow.id, AlertRow.status)))
        assert stored == {alert.alert_id: "escalated", second.alert_id: "escalated"}
        assert second_station.key == f"{second.alert_id}.t0.staff:wang"
    finally:
        for process in processes:
            if process.poll() is None:
                kill(process)
        await engine.dispose()


async def test_a_restarted_process_sends_at_once_what_the_dead_one_had_claimed(
    mosquitto, tmp_path
) -> None:
    """The killed process had claimed the station's notification (a lease of its own) and
    died before sending it: the next process frees it when it starts, instead of leaving the
    call unannounced until the lease lapses (here an hour)."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'eldercare.db'}"
    engine = create_engine(db_url)
    await migrate(engine)
    anchor = datetime.now(UTC)
    clock = ScaledClock(anchor, SPEED)
    process = None
    try:
        async with WebhookReceiver() as hooks:
            await seed_registry(engine, hooks, clock.now(), homes=1)
            links = AckLinks(b"k" * 32, "https://care.example", timedelta(hours=1))
            api = AlertingApi(engine, clock, links=links)
            alert = make_alert("01JCRASH0000000000000000C3", clock.now())
            await api.record(alert)
            await Escalator(engine, clock, api.policies, links, "dead").run_once()
            async with async_sessionmaker(engine).begin() as session:
                claimed = await leases.claim_due(
                    session,
                    NotificationRow,
                    NotificationRow.next_attempt_at,
                    owner="dead",
                    now=clock.now(),
                    lease=timedelta(hours=1),
                )
            assert claimed, "the station's notification is held by the dead process"
            process = start_alerting(mosquitto.url, db_url, anchor, tmp_path)
            [station] = await hooks.wait_for("/station/wang", timeout=20)
            assert station.key == f"{alert.alert_id}.t0.staff:wang"
    finally:
        if process is not None and process.poll() is None:
            kill(process)
        await engine.dispose()

"""Alerting between a real broker and PostgreSQL through a TCP proxy the test cuts.

The database connection dying in the middle of storing an alert must cost a delay, never
the alert; alerting started before its database must wait for it, not exit; and a message
some service cannot handle ends up in a dead letter operators can list.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest
import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from alerting.api import AlertingApi, AlertNotFound
from eldercare import bus
from eldercare.app.cli import app
from eldercare.app.runtime import Service, run_services
from eldercare.broker import LocalMosquitto
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.db.models import AlertRow, AlertTriggerRow
from eldercare.models import AlertStatus
from eldercare.settings import Settings
from tests.alerting_support import WebhookReceiver, make_alert, seed_registry
from tests.harness import make_settings, running_system, wait_for_services
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)


def through(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(port=proxy.port).render_as_string(hide_password=False)


async def stored(api: AlertingApi, alert_id: str, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(AlertNotFound):
                await api.get(alert_id)
                return
            await asyncio.sleep(0.1)


async def raise_alert(settings: Settings, alert_id: str) -> None:
    async with aiomqtt.Client(settings.broker.host, settings.broker.port) as detector:
        alert = make_alert(alert_id, START)
        await detector.publish(settings.topics.home_alerts("h-0001"), alert.to_json(), qos=1)


async def count(engine: AsyncEngine, query) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return int(await connection.scalar(query))


async def test_an_alert_whose_database_connection_dies_mid_write_is_stored_exactly_once(
    mosquitto: LocalMosquitto, tmp_path: Path, postgres_url: str
) -> None:
    clock = SimulatedClock(START)
    direct = create_engine(postgres_url)
    await migrate(direct)
    async with WebhookReceiver() as hooks, TcpProxy(make_url(postgres_url).port or 5432) as proxy:
        await seed_registry(direct, hooks, START)
        settings = make_settings(mosquitto, tmp_path, database_url=through(proxy, postgres_url))
        async with running_system(settings, [], clock, [Service.ALERTING]):
            # the alert id travels in the parameters of each statement about it; the second
            # is the INSERT of the alert row: cut there, in the middle of the write
            proxy.cut_on, proxy.cut_on_occurrence = b"01JCUTMIDWRITE", 2
            await raise_alert(settings, "01JCUTMIDWRITE")
            async with asyncio.timeout(10):
                while proxy.is_open:
                    await asyncio.sleep(0.02)
            await asyncio.sleep(1.0)  # the database stays away a while
            await proxy.restore()
            api = AlertingApi(direct, clock)
            await stored(api, "01JCUTMIDWRITE")
            await hooks.wait_for("/station/wang", timeout=15)
            await asyncio.sleep(0.5)  # a second store or notice would show by now
        view = await api.get("01JCUTMIDWRITE")
        assert view.trigger_count == 1
        steps = [step.status for step in await api.timeline("01JCUTMIDWRITE")]
        assert steps.count(AlertStatus.OPEN) == 1
        assert await count(direct, select(func.count()).select_from(AlertRow)) == 1
        assert await count(direct, select(func.count()).select_from(AlertTriggerRow)) == 1
        assert len(hooks.to("/station/wang")) == 1
    await direct.dispose()


async def test_alerting_started_before_its_database_waits_for_it(
    mosquitto: LocalMosquitto, tmp_path: Path, postgres_url: str
) -> None:
    clock = SimulatedClock(START)
    proxy = TcpProxy(make_url(postgres_url).port or 5432)  # not listening yet
    settings = make_settings(mosquitto, tmp_path, database_url=through(proxy, postgres_url))
    with structlog.testing.capture_logs() as logs:
        service = asyncio.create_task(run_services(settings, clock, [Service.ALERTING]))
        try:
            await asyncio.sleep(1.2)  # refused at 0 s and 0.5 s
            assert not service.done(), "alerting gave up on an unreachable database"
            await proxy.restore()
            await wait_for_services(settings, ["eldercare-alerting"], timeout=20)
            await raise_alert(settings, "01JDBLATE")
            direct = create_engine(postgres_url)
            await stored(AlertingApi(direct, clock), "01JDBLATE")
            await direct.dispose()
        finally:
            service.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await service
            proxy.cut()
    waits = [entry for entry in logs if entry["event"] == "database_unreachable_waiting"]
    assert [entry["attempt"] for entry in waits][:2] == [1, 2]
    assert all("Connect call failed" in entry["error"] for entry in waits)


async def test_a_message_a_service_cannot_handle_becomes_a_listed_dead_letter(
    mosquitto: LocalMosquitto,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bus, "POISON_PAUSE_S", 0.01)
    clock = SimulatedClock(START)
    settings = make_settings(mosquitto, tmp_path, database_url=db_url)
    handled: list[bytes] = []

    async def buggy(topic: str, payload: bytes) -> list[Outgoing]:
        if b"poison" in payload:
            raise KeyError("room")
        handled.append(payload)
        return []

    detector = MqttConnection(settings, "eldercare-detector", ["test/input"], buggy)
    async with running_system(settings, [], clock, [Service.ALERTING]):
        detector_task = asyncio.create_task(detector.run())
        await detector.connected.wait()
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as home:
            await home.publish("test/input", b'{"poison": true}', qos=1)
            await home.publish("test/input", b'{"press": 1}', qos=1)
        engine = create_engine(db_url)
        api = AlertingApi(engine, clock)
        async with asyncio.timeout(10):
            while not (await api.dead_letters())[0]:
                await asyncio.sleep(0.05)
        assert handled == [b'{"press": 1}']
        detector_task.cancel()
    total, [letter] = await api.dead_letters()
    assert total == 1
    assert (letter.service, letter.topic) == ("eldercare-detector", "test/input")
    assert (letter.payload, letter.payload_encoding) == ('{"poison": true}', "utf-8")
    assert (letter.error_type, letter.error) == ("builtins.KeyError", "'room'")
    await engine.dispose()

    listing = await asyncio.to_thread(
        CliRunner().invoke, app, ["deadletters"], env={"ELDERCARE_DATABASE_URL": db_url}
    )
    assert listing.exit_code == 0, listing.output
    assert "1 dead letter(s) in all" in listing.output
    assert "eldercare-detector  test/input  attempts=3  builtins.KeyError: 'room'" in (
        listing.output
    )

"""Nothing lost when the broker or alerting is away; our own silence raises an alert."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest

from alerting.api import AlertingApi
from eldercare.app.runtime import Service
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import SimulatedClock
from eldercare.db import prepared_engine
from eldercare.models import (
    AlertKind,
    AlertStatus,
    DeviceState,
    Event,
    EventType,
    ServiceStatus,
)
from tests.alerting_support import WebhookReceiver, make_alert, seed_registry
from tests.harness import make_settings, running_system

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_alert_raised_while_the_broker_is_down_is_delivered_and_escalated(
    mosquitto, tmp_path
) -> None:
    clock = SimulatedClock(START)
    async with WebhookReceiver() as hooks:
        settings = make_settings(mosquitto, tmp_path)
        engine = await prepared_engine(settings)
        await seed_registry(engine, hooks, START)
        # the detector's side: a persistent session that holds the alert until the broker is back
        detector = MqttConnection(settings, "test-detector")
        async with running_system(settings, [], clock, [Service.ALERTING]):
            detector_task = asyncio.create_task(detector.run())
            await detector.connected.wait()
            mosquitto.stop()
            await until(lambda: not detector.connected.is_set())
            alert = make_alert("01JBROKERDOWN", START)
            raised = asyncio.create_task(
                detector.publish(
                    Outgoing(settings.topics.home_alerts("h-0001"), alert.to_json(), qos=1)
                )
            )
            await asyncio.sleep(0.5)
            assert not raised.done() and hooks.received == []

            mosquitto.start()
            async with asyncio.timeout(15):
                await raised
            await hooks.wait_for("/station/wang", timeout=15)
            await clock.advance(120)
            await hooks.wait_for("/family/lihua")
            detector_task.cancel()
        api = AlertingApi(engine, clock)
        assert (await api.get("01JBROKERDOWN")).status is AlertStatus.ESCALATED
        await engine.dispose()


async def test_alert_queued_while_alerting_and_broker_restart_is_not_lost(
    mosquitto, tmp_path
) -> None:
    clock = SimulatedClock(START)
    async with WebhookReceiver() as hooks:
        settings = make_settings(mosquitto, tmp_path)
        engine = await prepared_engine(settings)
        await seed_registry(engine, hooks, START)
        async with running_system(settings, [], clock, [Service.ALERTING]):
            pass  # alerting's persistent session now exists at the broker
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as detector:
            alert = make_alert("01JQUEUED", START)
            await detector.publish(settings.topics.home_alerts("h-0001"), alert.to_json(), qos=1)
        mosquitto.stop()  # the queued alert survives in the broker's persistence file
        mosquitto.start()
        async with running_system(settings, [], clock, [Service.ALERTING]):
            [station] = await hooks.wait_for("/station/wang", timeout=15)
        assert station.key == "01JQUEUED.t0.staff:wang"
        await engine.dispose()


def operators_policy(folder: Path, hooks: WebhookReceiver) -> Path:
    folder.mkdir()
    (folder / "default.yaml").write_text(
        f"channels:\n  operators: ['{hooks.url('/ops/oncall')}']\n"
        "severities:\n  critical:\n    tiers: [{after: 0s, notify: station}]\n"
        "kinds:\n  system:\n    tiers: [{after: 0s, notify: operators}]\n"
    )
    return folder


async def operators_rig(mosquitto, tmp_path: Path, hooks: WebhookReceiver, clock: SimulatedClock):  # type: ignore[no-untyped-def]
    """Settings with fast heartbeats and system alerts paged to ``hooks``; engine; API."""
    settings = make_settings(
        mosquitto,
        tmp_path,
        heartbeat_s=0.2,
        policies_dir=operators_policy(tmp_path / "p", hooks),
    )
    engine = await prepared_engine(settings)
    return settings, engine, AlertingApi(engine, clock)


async def test_a_service_going_offline_raises_a_system_alert_and_recovery_resolves_it(
    mosquitto, tmp_path
) -> None:
    clock = SimulatedClock(START)
    async with WebhookReceiver() as hooks:
        settings = make_settings(
            mosquitto, tmp_path, policies_dir=operators_policy(tmp_path / "p", hooks)
        )
        engine = await prepared_engine(settings)
        topic = settings.topics.service_status("eldercare-detector")
        async with (
            running_system(settings, [], clock, [Service.ALERTING]),
            aiomqtt.Client("127.0.0.1", mosquitto.port) as broker,
        ):
            # what the broker publishes when the detector's connection dies: its last will
            will = ServiceStatus(service="eldercare-detector", state=DeviceState.OFFLINE)
            await broker.publish(topic, will.to_json(), qos=1, retain=True)
            [page] = await hooks.wait_for("/ops/oncall")
            assert "eldercare-detector" in page.body["message"]
            assert page.body["title"].startswith("【紧急】系统故障")
            api = AlertingApi(engine, clock)
            alert_id = await api.open_alert("eldercare-detector", AlertKind.SYSTEM)
            assert alert_id is not None

            back = ServiceStatus(service="eldercare-detector", state=DeviceState.ONLINE)
            await broker.publish(topic, back.to_json(), qos=1, retain=True)

            async def resolved() -> bool:
                return (await api.get(alert_id)).status is AlertStatus.RESOLVED

            async with asyncio.timeout(5):
                while not await resolved():
                    await asyncio.sleep(0.05)
            # a service we do not watch (a simulator) may come and go without paging anyone
            other = ServiceStatus(service="eldercare-simulator-0", state=DeviceState.OFFLINE)
            await broker.publish(
                settings.topics.service_status("eldercare-simulator-0"), other.to_json(), qos=1
            )
            await asyncio.sleep(0.3)
        view = await api.get(alert_id)
        assert view.outcome == "recovered"
        assert len(hooks.received) == 1
        assert await api.open_alert("eldercare-simulator-0", AlertKind.SYSTEM) is None
        await engine.dispose()


async def test_a_stuck_then_silent_service_raises_system_alerts(mosquitto, tmp_path) -> None:
    clock = SimulatedClock(START)
    async with WebhookReceiver() as hooks:
        settings, engine, api = await operators_rig(mosquitto, tmp_path, hooks, clock)
        release = asyncio.Event()

        async def stuck(topic: str, payload: bytes) -> list[Outgoing]:
            await release.wait()  # e.g. a database that never answers
            return []

        detector = MqttConnection(
            settings, "eldercare-detector", ["test/input"], stuck, persistent=False
        )
        async with (
            running_system(settings, [], clock, [Service.ALERTING]),
            aiomqtt.Client("127.0.0.1", mosquitto.port) as broker,
        ):
            detector_task = asyncio.create_task(detector.run())
            await detector.connected.wait()
            await broker.publish("test/input", b"work", qos=1)
            [stuck_page] = await hooks.wait_for("/ops/oncall", timeout=5)
            assert "卡住" in stuck_page.body["message"]

            release.set()  # it gets going again: the alert resolves itself
            async with asyncio.timeout(5):
                while await api.open_alert("eldercare-detector", AlertKind.SYSTEM):
                    await asyncio.sleep(0.05)

            # a clean disconnect leaves no last will: only the missing heartbeats tell
            detector_task.cancel()
            pages = await hooks.wait_for("/ops/oncall", count=2, timeout=5)
            assert "没有心跳" in pages[1].body["message"]
            assert await api.open_alert("eldercare-detector", AlertKind.SYSTEM) is not None
        await engine.dispose()


async def test_a_gateway_that_heartbeats_but_no_longer_gets_input_raises_a_system_alert(
    mosquitto, tmp_path
) -> None:
    clock = SimulatedClock(START)
    async with WebhookReceiver() as hooks:
        settings, engine, api = await operators_rig(mosquitto, tmp_path, hooks, clock)

        async def handled(topic: str, payload: bytes) -> list[Outgoing]:
            return []

        # a gateway that lost its device subscription: alive, heartbeating, idle
        gateway = MqttConnection(
            settings, "eldercare-gateway", ["test/other-input"], handled, persistent=False
        )
        event = make_event()
        async with (
            running_system(settings, [], clock, [Service.ALERTING]),
            aiomqtt.Client("127.0.0.1", mosquitto.port) as broker,
        ):
            gateway_task = asyncio.create_task(gateway.run())
            await gateway.connected.wait()
            await asyncio.sleep(2.0)  # ten quiet heartbeats: a quiet night pages nobody
            assert hooks.received == []

            async def home_keeps_sending() -> None:
                while True:
                    await broker.publish(settings.topics.device("h-0001", "hub", "event"), event)
                    await asyncio.sleep(0.1)

            sending = asyncio.create_task(home_keeps_sending())
            [page] = await hooks.wait_for("/ops/oncall", timeout=5)
            assert "未被处理" in page.body["message"]
            assert await api.open_alert("eldercare-gateway", AlertKind.SYSTEM) is not None

            await broker.publish("test/other-input", b"work", qos=1)  # it handles input again
            async with asyncio.timeout(5):
                while await api.open_alert("eldercare-gateway", AlertKind.SYSTEM):
                    await asyncio.sleep(0.05)
            sending.cancel()
            gateway_task.cancel()
        alert = (await api.list(unresolved_only=False))[0]
        assert (alert.status, alert.outcome) == (AlertStatus.RESOLVED, "recovered")
        await engine.dispose()


def make_event() -> bytes:
    return Event(home="h-0001", device="hub", seq=1, ts=START, type=EventType.HEARTBEAT).to_json()

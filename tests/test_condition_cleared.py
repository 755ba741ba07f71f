"""A condition that ends by itself ends its alert, over a real broker: a device goes offline
(its last will), the technician's alert opens; the device speaks again, the detector says the
condition cleared, and alerting resolves the alert as recovered, saying why."""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import pytest

from alerting.api import AlertingApi
from eldercare.app.runtime import Service
from eldercare.clock import RealClock
from eldercare.db import create_engine
from eldercare.models import AlertKind, DeviceState, DeviceStatus, EventType, Outcome
from simulator.homes import make_homes
from tests.harness import make_settings, running_system

pytestmark = pytest.mark.integration

SERVICES = (Service.GATEWAY, Service.DETECTOR, Service.ALERTING)


async def next_message(mqtt: aiomqtt.Client, wanted: str) -> dict:
    """The next payload on the bus whose JSON has the ``wanted`` key."""
    async with asyncio.timeout(10):
        async for message in mqtt.messages:
            body = json.loads(message.payload)  # type: ignore[arg-type]
            if wanted in body:
                return body
    raise AssertionError("unreachable")


async def test_a_device_back_online_resolves_its_offline_alert_as_recovered(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    topics, clock = settings.topics, RealClock()
    (home,) = make_homes(1)
    async with (
        running_system(settings, [home], services=SERVICES),
        aiomqtt.Client("127.0.0.1", mosquitto.port) as terminal,
        aiomqtt.Client("127.0.0.1", mosquitto.port) as spy,
    ):
        await spy.subscribe(topics.all_alerts_filter, qos=1)
        await spy.subscribe(topics.all_updates_filter, qos=1)
        for device in ("pir-living", "btn-hall"):  # two devices alive: not a silent home
            beat = home.event(device, EventType.HEARTBEAT, clock.now())
            await terminal.publish(home.topic(device, "event"), beat.to_json(), qos=1)
        await asyncio.sleep(0.5)
        will = DeviceStatus(home=home.home_id, device="btn-hall", state=DeviceState.OFFLINE)
        await terminal.publish(home.topic("btn-hall", "status"), will.to_json(), qos=1)
        alert = await next_message(spy, "kind")
        assert (alert["kind"], alert["home"]) == (AlertKind.DEVICE_OFFLINE, home.home_id)

        beat = home.event("btn-hall", EventType.HEARTBEAT, clock.now())
        await terminal.publish(home.topic("btn-hall", "event"), beat.to_json(), qos=1)
        cleared = await next_message(spy, "cleared")
        assert (cleared["cleared"], cleared["devices"]) == (AlertKind.DEVICE_OFFLINE, ["btn-hall"])
        while (update := await next_message(spy, "status"))["status"] != "resolved":
            pass
        assert update["alert_id"] == alert["alert_id"]
        assert update["outcome"] == Outcome.RECOVERED

    engine = create_engine(settings.db_url)
    try:
        api = AlertingApi(engine, clock)
        stored = await api.get(alert["alert_id"])
        assert (stored.status, stored.outcome) == ("resolved", Outcome.RECOVERED)
        last = (await api.timeline(alert["alert_id"]))[-1]
        assert last.status == "resolved" and "back online: btn-hall" in (last.note or "")
    finally:
        await engine.dispose()

"""The gateway service on a real broker, its liveness driven by a simulated clock."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import aiomqtt
import pytest

from eldercare.app.runtime import Service
from eldercare.clock import SimulatedClock
from eldercare.models import HOME_GATEWAY_DEVICE
from gateway.registry import DeviceSpec
from simulator.homes import SimulatedHome
from tests.gateway_support import START
from tests.harness import make_settings, running_system

pytestmark = pytest.mark.integration


async def test_silent_home_goes_offline_on_the_normalised_status_topic(mosquitto, tmp_path) -> None:
    """Two simulated hours pass in well under a second: the device deadline (2 × 60 s + 60 s)
    passes, the device and then its home are published offline, retained."""
    clock = SimulatedClock(START)
    home = SimulatedHome("h-0500", (DeviceSpec("btn", "call_button", "hall", heartbeat_s=60),))
    settings = make_settings(mosquitto, tmp_path)
    topic = settings.topics.normalised("h-0500", HOME_GATEWAY_DEVICE, "status")
    async with (
        running_system(settings, [home], clock, services=[Service.GATEWAY]),
        aiomqtt.Client("127.0.0.1", mosquitto.port) as spy,
    ):
        await spy.subscribe(settings.topics.normalised_filter("status"), qos=1)
        await clock.advance(170)
        await clock.advance(20)
        statuses = {}
        async with asyncio.timeout(5):
            async for message in spy.messages:
                status = json.loads(message.payload)  # type: ignore[arg-type]
                statuses[status["device"]] = status
                if message.topic.value == topic:
                    break
    assert statuses["btn"]["state"] == "offline"
    assert statuses["btn"]["reason"].startswith("heartbeat: silent for")
    assert statuses[HOME_GATEWAY_DEVICE]["state"] == "offline"
    assert statuses[HOME_GATEWAY_DEVICE]["ts"] >= (START + timedelta(seconds=180)).isoformat()[:19]

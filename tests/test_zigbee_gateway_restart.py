"""A zigbee2mqtt press while the gateway is away: kept at QoS 1, dropped by the broker at 0.

zigbee2mqtt publishes at QoS 0 unless configured otherwise, and mosquitto keeps nothing at
QoS 0 for a persistent session that is offline. The deployment example therefore sets
``device_options.qos: 1``; this test holds the example to it and shows why on a real broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from pathlib import Path

import aiomqtt
import pytest
import yaml

from eldercare.app.runtime import Service
from eldercare.settings import Settings
from tests.harness import make_settings, running_system
from tests.presses import ZIGBEE_PRESS, button_homes

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[1] / "deploy" / "zigbee2mqtt" / "configuration.yaml"


def test_the_deployment_example_publishes_at_qos_1_with_the_devices_own_times() -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    assert config["device_options"]["qos"] == 1
    assert config["advanced"]["last_seen"] == "ISO_8601"
    assert config["advanced"]["output"] == "json"
    assert config["availability"]["enabled"] is True
    home_base = config["mqtt"]["base_topic"]
    assert home_base == f"{Settings().zigbee_base_topic}/h-0001", "the bridge's state is the home's"
    names = [device["friendly_name"] for device in config["devices"].values()]
    assert names and not any(name.startswith("h-0001") for name in names), "under the home's base"


async def test_a_press_while_the_gateway_restarts_waits_for_it_at_qos_1(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = button_homes(2, via="zigbee2mqtt")
    async with running_system(settings, homes, services=[Service.GATEWAY]):
        pass  # the gateway's sessions exist and are subscribed; now it is away
    presses: Counter[str] = Counter()
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        await client.subscribe(settings.topics.normalised_filter("event"), qos=1)
        await client.publish("zigbee2mqtt/h-0001/btn", ZIGBEE_PRESS, qos=1)
        await client.publish("zigbee2mqtt/h-0002/btn", ZIGBEE_PRESS, qos=0)
        async with running_system(settings, [], services=[Service.GATEWAY]):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    async for message in client.messages:
                        body = json.loads(message.payload)  # type: ignore[arg-type]
                        if body.get("type") == "call_button":
                            presses[body["home"]] += 1
    assert presses == {"h-0001": 1}, "QoS 1: kept for the gateway and published once (two sessions)"

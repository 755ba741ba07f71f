"""DESIGN §8: life-safety events reach the wall within 5 s even while one device floods.

The per-device rate limit makes a flood cheap, but the broker still hands the gateway's
session its queue in order, a few messages in flight: at a few thousand messages a second
from one device a press waited ~6 s behind the backlog. The lanes are second sessions (the
gateway's on the raw event topics of life-safety devices, the detector's on
``_lifesafety``) that no flood shares. Real mosquitto, the gateway and detector in-process,
the flood as fast as a separate publisher process can make it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter

import aiomqtt
import pytest

from eldercare.app.runtime import Service
from gateway.specs import DeviceSpec
from simulator.homes import SimulatedHome
from tests.harness import make_settings, running_system
from tests.presses import (
    BUTTON_PATHS,
    MAPPED_BUTTON_YAML,
    button_homes,
    flood_report,
    flooding,
    press_each,
    until,
)

pytestmark = pytest.mark.integration

FLOOD_S = 8.0
PRESSES = 12
PRESS_EVERY_S = 0.5
LIFE_SAFETY_BOUND_S = 5.0


@pytest.mark.parametrize("via", BUTTON_PATHS)
async def test_call_buttons_take_the_lane_past_a_flood_at_full_speed(
    mosquitto, tmp_path, via: str
) -> None:
    """Native buttons number their presses; zigbee2mqtt's and mapped vendors' are paired
    by content (``gateway/lane_copies.py``): each kind must pass the flood, once each."""
    mappings = tmp_path / "mappings.yaml"
    mappings.write_text(MAPPED_BUTTON_YAML)
    settings = make_settings(mosquitto, tmp_path, device_mappings=mappings)
    flooder = SimulatedHome("h-flood", devices=(DeviceSpec("pir", "motion", "hall"),))
    homes = button_homes(PRESSES, via=via)
    topics = settings.topics
    alerts: Counter[str] = Counter()
    alerted_at: dict[str, float] = {}
    normalised: Counter[str] = Counter()
    lane_copies: Counter[str] = Counter()

    async def watch(client: aiomqtt.Client) -> None:
        async for message in client.messages:
            body = json.loads(message.payload)  # type: ignore[arg-type]
            topic = message.topic.value
            if topic.endswith("/alerts") and body["kind"] == "call_button":
                alerts[body["home"]] += 1
                alerted_at.setdefault(body["home"], time.monotonic())
            elif "/_lifesafety/" in topic:
                lane_copies[body["home"]] += 1
            elif body.get("type") == "call_button":
                normalised[body["home"]] += 1

    async with (
        running_system(settings, [flooder, *homes], services=[Service.GATEWAY, Service.DETECTOR]),
        aiomqtt.Client("127.0.0.1", mosquitto.port, max_queued_incoming_messages=0) as client,
    ):
        await client.subscribe(topics.all_alerts_filter, qos=1)
        await client.subscribe(topics.normalised_filter("event"), qos=1)
        await client.subscribe(topics.life_safety_filter, qos=1)
        watcher = asyncio.create_task(watch(client))
        flood_args = (topics.prefix, "h-flood", "pir", "0", str(FLOOD_S))  # rate 0: flat out
        try:
            async with flooding(mosquitto.port, *flood_args) as flood:
                pressed = await press_each(client, topics, homes, PRESS_EVERY_S, via=via)
                await until(lambda: len(alerted_at) >= len(pressed), LIFE_SAFETY_BOUND_S)
                waited = {
                    home: round(alerted_at[home] - at, 2) if home in alerted_at else None
                    for home, at in pressed.items()
                }
                rate = (await flood_report(flood))["rate"]
            late = {home: s for home, s in waited.items() if s is None or s > LIFE_SAFETY_BOUND_S}
            assert not late, f"presses lost (None) or later than 5 s at {rate:.0f}/s: {late}"

            # The main sessions' copies arrive once the backlog is through: each press is
            # still republished once, copied to the detector's lane once, alerted once.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(15):
                    while sum(normalised.values()) < PRESSES:
                        await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            assert set(normalised.values()) == {1} and len(normalised) == PRESSES, normalised
            assert set(lane_copies.values()) == {1} and len(lane_copies) == PRESSES
            assert set(alerts.values()) == {1} and len(alerts) == PRESSES, alerts
        finally:
            watcher.cancel()

"""Retained device reports are the device's last word, not news (``Gateway.handle_retained``).

zigbee2mqtt retains every report when an installer sets ``retain`` (a common Home Assistant
setting), and the broker replays retained messages each time a filter is subscribed: at
every gateway start and reconnect. Taken as news, a button's last report was a call nobody
made and a motion sensor's last occupancy, stamped now, movement nobody made (hiding a
collapse). States still count: a smoke alarm already sounding is heard at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter

import aiomqtt
import pytest

from eldercare.app.runtime import Service
from gateway.specs import DeviceSpec
from simulator.homes import SimulatedHome
from tests.gateway_support import decoded, device, make_gateway
from tests.harness import make_settings, running_system
from tests.presses import ZIGBEE_PRESS

HOME = "h-0001"
DEVICES = [
    device(HOME, "btn", "call_button", zigbee_name="h-0001/btn"),
    device(HOME, "pir", "motion", model="RTCGQ11LM", zigbee_name="h-0001/pir"),
    device(HOME, "smoke", "smoke", zigbee_name="h-0001/smoke"),
    device(HOME, "band", "pendant"),
]


def event_types(outgoing: list) -> list[str]:
    return [e["type"] for e in decoded(outgoing, "event")]


async def test_a_retained_press_or_movement_is_not_news_but_a_sounding_alarm_is() -> None:
    gateway = make_gateway(DEVICES)
    assert not event_types(
        list(await gateway.handle_retained("zigbee2mqtt/h-0001/btn", ZIGBEE_PRESS))
    )
    pir = list(await gateway.handle_retained("zigbee2mqtt/h-0001/pir", b'{"occupancy": true}'))
    assert not event_types(pir) and not decoded(pir, "status"), "no movement, no sign of life"
    smoke = list(await gateway.handle_retained("zigbee2mqtt/h-0001/smoke", b'{"smoke": true}'))
    assert event_types(smoke) == ["smoke"]
    assert gateway.replays_dropped == 4  # the press, its battery and link, the occupancy

    live = list(await gateway.handle("zigbee2mqtt/h-0001/btn", ZIGBEE_PRESS))
    assert event_types(live) == ["call_button"], "the next live press is a press"


async def test_a_retained_report_still_sets_what_the_next_live_one_is_compared_with() -> None:
    gateway = make_gateway(DEVICES)
    await gateway.handle_retained("zigbee2mqtt/h-0001/smoke", b'{"smoke": false}')
    again = list(await gateway.handle("zigbee2mqtt/h-0001/smoke", b'{"smoke": false}'))
    assert not event_types(again)
    sounding = list(await gateway.handle("zigbee2mqtt/h-0001/smoke", b'{"smoke": true}'))
    assert event_types(sounding) == ["smoke"]


async def test_a_retained_native_event_is_dropped_and_its_retained_status_kept() -> None:
    gateway = make_gateway(DEVICES)
    event = {"home": HOME, "device": "band", "seq": 7, "ts": "2026-11-25T07:59:00Z"}
    fall = json.dumps({**event, "type": "fall_suspected", "value": {}}).encode()
    assert not await gateway.handle_retained(f"eldercare/v1/{HOME}/band/event", fall)
    will = json.dumps({"home": HOME, "device": "band", "state": "offline"}).encode()
    statuses = decoded(
        list(await gateway.handle_retained(f"eldercare/v1/{HOME}/band/status", will)), "status"
    )
    assert [s["state"] for s in statuses] == ["offline"]


@pytest.mark.integration
async def test_a_restarted_gateway_takes_retained_reports_for_states_not_events(
    mosquitto, tmp_path
) -> None:
    """Real mosquitto: reports retained before the gateway starts (as zigbee2mqtt with
    ``retain: true`` leaves them) make no call and no movement; a retained sounding smoke
    alarm and a live press after the start are each published once."""
    settings = make_settings(mosquitto, tmp_path)
    home = SimulatedHome(
        HOME,
        devices=(
            DeviceSpec("btn", "call_button", "hall", zigbee_name="h-0001/btn"),
            DeviceSpec("pir", "motion", "living", model="RTCGQ11LM", zigbee_name="h-0001/pir"),
            DeviceSpec("smoke", "smoke", "kitchen", zigbee_name="h-0001/smoke"),
        ),
    )
    events: Counter[str] = Counter()
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        for name, report in (
            ("btn", ZIGBEE_PRESS),
            ("pir", b'{"occupancy": true}'),
            ("smoke", b'{"smoke": true}'),
        ):
            await client.publish(f"zigbee2mqtt/h-0001/{name}", report, qos=1, retain=True)
        await client.subscribe(settings.topics.normalised_filter("event"), qos=1)
        async with running_system(settings, [home], services=[Service.GATEWAY]):
            live = ZIGBEE_PRESS.replace(b'"linkquality":94', b'"linkquality":93')
            await client.publish("zigbee2mqtt/h-0001/btn", live)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(4):
                    async for message in client.messages:
                        events[json.loads(message.payload)["type"]] += 1  # type: ignore[arg-type]
    assert events == {"call_button": 1, "smoke": 1}, "the live press once, the alarm once"

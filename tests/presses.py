"""Call-button presses published as a home's device would, for the flood and lane tests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import aiomqtt

from eldercare.models import Event, EventType
from eldercare.topics import Topics
from gateway.specs import DeviceSpec
from simulator.homes import SimulatedHome
from tests.gateway_support import fixture

#: The one device of a pressing home: the call button ``press_each`` presses.
BUTTON = (DeviceSpec("btn", "call_button", "hall"),)


#: zigbee2mqtt's report of a press, as an Aqara WXKG11LM sends it (recorded fixture).
ZIGBEE_PRESS = fixture("button_single_WXKG11LM")
#: A vendor's SOS key read through a generic mapping (``MAPPED_BUTTON_YAML``).
MAPPED_MODEL = "acme-key"
MAPPED_BUTTON_YAML = f"""
models:
  {MAPPED_MODEL}:
    events:
      - {{field: key, equals: sos, type: call_button, value: {{press: single}}, on_change: false}}
    telemetry:
      - {{field: bat, metric: battery}}
"""
MAPPED_PRESS = b'{"key": "sos", "bat": 80}'
#: How a home's button reaches us: our contract, zigbee2mqtt, or a vendor's JSON mapped.
BUTTON_PATHS = ("native", "zigbee2mqtt", "mapped")


def button_homes(count: int, *, via: str = "native") -> list[SimulatedHome]:
    """Homes h-0001 … with nothing but the call button that ``press_each`` presses, speaking
    our contract, paired through zigbee2mqtt (friendly name ``<home>/btn``) or of the mapped
    model ``MAPPED_MODEL``."""
    homes = [f"h-{number:04d}" for number in range(1, count + 1)]
    return [SimulatedHome(home, devices=(_button(home, via),)) for home in homes]


def _button(home: str, via: str) -> DeviceSpec:
    if via == "zigbee2mqtt":
        return dataclasses.replace(BUTTON[0], zigbee_name=f"{home}/btn")
    if via == "mapped":
        return dataclasses.replace(BUTTON[0], model=MAPPED_MODEL)
    return BUTTON[0]


async def press_each(
    client: aiomqtt.Client,
    topics: Topics,
    homes: Iterable[SimulatedHome],
    every_s: float,
    *,
    via: str = "native",
) -> dict[str, float]:
    """Each home's call button ``btn`` once, ``every_s`` apart (as ``button_homes`` made it):
    home -> when it was sent (``time.monotonic``)."""
    pressed: dict[str, float] = {}
    for home in homes:
        if via != "native":
            topic, report = (
                (f"zigbee2mqtt/{home.home_id}/btn", ZIGBEE_PRESS)
                if via == "zigbee2mqtt"
                else (topics.device(home.home_id, "btn", "event"), MAPPED_PRESS)
            )
            await client.publish(topic, report, qos=0)
            pressed[home.home_id] = time.monotonic()
            await asyncio.sleep(every_s)
            continue
        press = Event(
            home=home.home_id,
            device="btn",
            seq=1,
            ts=datetime.now(UTC),
            type=EventType.CALL_BUTTON,
            value={"press": "single"},
        )
        await client.publish(topics.device(home.home_id, "btn", "event"), press.to_json(), qos=1)
        pressed[home.home_id] = time.monotonic()
        await asyncio.sleep(every_s)
    return pressed


async def until(done: Callable[[], bool], timeout_s: float) -> None:
    """Wait until ``done()`` or the timeout, whichever comes first (the caller judges)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while not done():
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def flooding(port: int, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``tests.flood_publisher`` running against the broker on ``port`` (its arguments after
    the port), the backlog already growing when the body starts; killed if still going."""
    flood = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.flood_publisher", str(port), *args),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.sleep(1.5)  # the flood is under way and the backlog growing
        yield flood
    finally:
        if flood.returncode is None:
            flood.kill()
            await flood.wait()


async def flood_report(flood: asyncio.subprocess.Process) -> dict[str, Any]:
    """The flood publisher's report once it ends, with its rate (``rate``, messages/s)."""
    output, _ = await asyncio.wait_for(flood.communicate(), timeout=60)
    report = json.loads(output)
    return {**report, "rate": report["published"] / report["seconds"]}

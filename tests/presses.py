"""Call-button presses published as a home's device would, for the flood and lane tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import aiomqtt

from eldercare.models import Event, EventType
from eldercare.topics import Topics
from simulator.homes import SimulatedHome


async def press_each(
    client: aiomqtt.Client, topics: Topics, homes: Iterable[SimulatedHome], every_s: float
) -> dict[str, float]:
    """Each home's call button ``btn`` once, ``every_s`` apart: home -> when it was sent
    (``time.monotonic``)."""
    pressed: dict[str, float] = {}
    for home in homes:
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

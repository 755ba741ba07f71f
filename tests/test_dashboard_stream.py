"""The SSE fan-out: a browser that stops reading is cut off instead of stalling the others."""

from __future__ import annotations

import asyncio

import pytest

from dashboards.scope import Placement
from dashboards.stream import QUEUE_LIMIT, Broadcaster

HOME = Placement(home_id="h-0001", station_id="s-1", centre_id=None)


async def test_broadcaster_drops_a_client_that_does_not_read() -> None:
    broadcaster = Broadcaster()
    stalled = broadcaster.frames(lambda _: True)
    reading = broadcaster.frames(lambda _: True)
    assert await anext(stalled) == ": connected\n\n"
    assert await anext(reading) == ": connected\n\n"
    for n in range(QUEUE_LIMIT + 1):
        broadcaster.publish("alert", {"n": n}, HOME)
        if n < 5:
            assert f'"n": {n}' in await anext(reading)
    assert broadcaster.listeners == 1  # only the stalled one was dropped
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stalled), 1)

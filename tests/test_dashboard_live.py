"""The live stream over a real broker: each station's screen gets its own alerts only,
and everyone on a station sees at once who is on the way."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from eldercare.clock import RealClock
from simulator.homes import make_homes
from simulator.runner import Simulator
from tests.dashboard_world import fast_hashing, log_in, seed_stations
from tests.harness import make_settings, running_system
from tests.sse import sse_events

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures(fast_hashing.__name__)]

PLACEMENTS = {"h-0001": "s-1", "h-0002": "s-1", "h-0003": "s-2"}
STAFF = {"wang": ("王芳", "s-1"), "zhao": ("赵强", "s-1"), "li": ("李娜", "s-2")}


async def frames_within(stream: asyncio.Queue, seconds: float) -> list[dict]:
    frames = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                frames.append(await stream.get())
    return frames


async def test_streams_are_scoped_and_responses_reach_the_whole_station(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = make_homes(3)
    await seed_stations(settings.db_url, PLACEMENTS, STAFF, RealClock().now())
    simulator = Simulator(settings, RealClock(), homes)
    base = f"http://127.0.0.1:{settings.http_port}"
    async with (
        running_system(settings, homes),
        asyncio.TaskGroup() as group,
        httpx.AsyncClient(base_url=base) as wang,
        httpx.AsyncClient(base_url=base) as zhao,
        httpx.AsyncClient(base_url=base) as li,
    ):
        for client, username in ((wang, "wang"), (zhao, "zhao"), (li, "li")):
            await log_in(client, username)
        sim_task = group.create_task(simulator.connection.run())
        await simulator.connection.connected.wait()
        async with (
            sse_events(wang, "/api/alerts/stream") as wang_stream,
            sse_events(zhao, "/api/alerts/stream") as zhao_stream,
            sse_events(li, "/api/alerts/stream") as li_stream,
        ):
            await simulator.press_call_button("h-0003")
            (li_frame,) = await frames_within(li_stream, 1.0)
            assert li_frame["alert"]["home"] == "h-0003"
            assert await frames_within(wang_stream, 0.3) == []

            await simulator.press_call_button("h-0001")
            (wang_frame,) = await frames_within(wang_stream, 1.0)
            alert_id = wang_frame["alert"]["alert_id"]
            assert [f["alert"]["home"] for f in await frames_within(zhao_stream, 0.3)] == ["h-0001"]
            assert await frames_within(li_stream, 0.3) == []
            assert (await li.get(f"/api/alerts/{alert_id}")).status_code == 404

            going = await wang.post(
                f"/api/alerts/{alert_id}/response", json={"state": "on_the_way"}
            )
            assert going.status_code == 201, going.text
            (seen,) = await frames_within(zhao_stream, 1.0)
            assert seen["event"] == "response"
            assert seen["alert"]["response"]["actor"] == "王芳"
            assert seen["alert"]["response"]["state"] == "on_the_way"
            assert await frames_within(li_stream, 0.3) == []

        # The homes overview heard the simulator's presence and the press.
        async with asyncio.timeout(3):
            while True:
                items = {h["home_id"]: h for h in (await wang.get("/api/homes")).json()["items"]}
                if items["h-0001"]["last_activity"] and items["h-0002"]["connectivity"] == "online":
                    break
                await asyncio.sleep(0.05)
        assert set(items) == {"h-0001", "h-0002"}
        assert items["h-0001"]["last_activity_device"] == "btn-hall"
        assert items["h-0001"]["open_alerts"] == 1
        assert items["h-0002"]["last_activity"] is None  # heartbeats are not activity
        sim_task.cancel()

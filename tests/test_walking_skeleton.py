"""The whole path over a real broker: press → gateway → detector → alerting → dashboard."""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import httpx
import pytest

from eldercare.clock import RealClock
from simulator.homes import make_homes
from simulator.runner import Simulator
from tests.dashboard_world import fast_hashing, log_in, seed_stations
from tests.harness import PUSHED_WITHIN_S, make_settings, running_system
from tests.sse import sse_events

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures(fast_hashing.__name__)]


async def next_alert_frame(stream: asyncio.Queue, status: str, timeout: float) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = await stream.get()
            if frame["event"] == "alert" and frame["update"]["status"] == status:
                return frame


async def test_call_button_reaches_dashboard_and_ack_comes_back(mosquitto, tmp_path) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = make_homes(3)
    placements = {home.home_id: "s-1" for home in homes}
    await seed_stations(
        settings.db_url, placements, {"wangfang": ("王芳 (station)", "s-1")}, RealClock().now()
    )
    simulator = Simulator(settings, RealClock(), homes)
    base = f"http://127.0.0.1:{settings.http_port}"
    async with (
        running_system(settings, homes),
        asyncio.TaskGroup() as group,
        httpx.AsyncClient(base_url=base) as client,
    ):
        await log_in(client, "wangfang")
        await check_press_to_ack(group, simulator, client)


async def check_press_to_ack(
    group: asyncio.TaskGroup, simulator: Simulator, client: httpx.AsyncClient
) -> None:
    async with sse_events(client, "/api/alerts/stream") as stream:
        sim_task = group.create_task(simulator.connection.run())
        await simulator.connection.connected.wait()

        press = await simulator.press_call_button("h-0002")
        frame = await next_alert_frame(stream, "open", timeout=PUSHED_WITHIN_S)
        listed = (await client.get("/api/alerts")).json()["items"]

        alert = frame["alert"]
        assert alert["home"] == "h-0002"
        assert alert["kind"] == "call_button"
        assert alert["severity"] == "critical"
        assert alert["evidence"] == [
            {"device": "btn-hall", "seq": press.seq, "type": "call_button"}
        ]
        assert [a["alert_id"] for a in listed] == [alert["alert_id"]]
        assert listed[0]["home"] == "h-0002"

        # Who acknowledged comes from the login, not from the request body.
        response = await client.post(f"/api/alerts/{alert['alert_id']}/ack", json={})
        assert response.status_code == 200, response.text
        acked = await next_alert_frame(stream, "acknowledged", timeout=1.0)
        assert acked["alert"]["acknowledged_by"] == "王芳 (station)"
        assert acked["update"]["channel"] == "dashboard"

        again = await client.post(f"/api/alerts/{alert['alert_id']}/ack", json={})
        assert again.status_code == 409

        timeline = (await client.get(f"/api/alerts/{alert['alert_id']}/timeline")).json()
        statuses = [step["status"] for step in timeline]
        # between the two, escalation audits its steps (here: no station staff to notify)
        assert (statuses[0], statuses[-1]) == ("open", "acknowledged")
        sim_task.cancel()


MALFORMED = {
    "bad json": ("h-0001/btn-hall/event", b"{not json"),
    "wrong types": (
        "h-0001/btn-hall/event",
        b'{"schema":1,"home":"h-0001","device":"btn-hall","seq":"x","ts":1,"type":"call_button"}',
    ),
    "missing fields": ("h-0001/btn-hall/event", b'{"schema":1,"home":"h-0001"}'),
    "huge": ("h-0001/btn-hall/event", b'{"pad":"' + b"x" * 200_000 + b'"}'),
    "unknown device": (
        "h-0001/ghost/event",
        b'{"schema":1,"home":"h-0001","device":"ghost","seq":1,"ts":"2030-01-01T00:00:00Z",'
        b'"type":"call_button"}',
    ),
}


async def test_malformed_payloads_are_quarantined_and_services_keep_running(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = make_homes(1)
    await seed_stations(
        settings.db_url, {"h-0001": "s-1"}, {"wangfang": ("王芳", "s-1")}, RealClock().now()
    )
    simulator = Simulator(settings, RealClock(), homes)
    prefix = settings.topics.prefix
    async with (
        running_system(settings, homes),
        aiomqtt.Client("127.0.0.1", mosquitto.port) as spy,
        asyncio.TaskGroup() as group,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as client,
    ):
        await spy.subscribe(f"{prefix}/_quarantine/#", qos=1)
        for topic, payload in MALFORMED.values():
            await spy.publish(f"{prefix}/{topic}", payload, qos=1)
        reasons = []
        async with asyncio.timeout(5):
            async for message in spy.messages:
                reasons.append(json.loads(message.payload)["reason"])
                if len(reasons) == len(MALFORMED):
                    break
        assert any(r.startswith("schema: ") and "JSON" in r for r in reasons), reasons
        assert any("seq" in r for r in reasons), reasons
        assert any("size: " in r for r in reasons), reasons
        assert any(r.startswith("unknown device") for r in reasons), reasons
        assert sum(r.startswith("schema:") for r in reasons) == 3, reasons

        # Still alive: a real press goes all the way through afterwards.
        await log_in(client, "wangfang")
        sim_task = group.create_task(simulator.connection.run())
        await simulator.connection.connected.wait()
        await simulator.press_call_button("h-0001")
        async with asyncio.timeout(3):
            while not (await client.get("/api/alerts")).json()["items"]:
                await asyncio.sleep(0.05)
        sim_task.cancel()

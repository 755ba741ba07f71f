"""Least-privilege service accounts, enforced by a real mosquitto with the generated files.

Every service runs on its own generated account against the locked-down broker and still
does its whole job (a press becomes a stored alert, the resident hears back, the staff's
acknowledgement goes over MQTT and comes back to the wall), while each account is refused
what is not its job: a compromised dashboard cannot inject normalised events or alerts, a
compromised gateway cannot raise or resolve alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import httpx
import pytest

from eldercare.app.runtime import Service, run_services
from eldercare.broker import LocalMosquitto, free_port
from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.models import CommandKind, EventType
from eldercare.settings import Settings
from eldercare.topics import shard_client_id, shard_of
from gateway.mqtt_auth import BrokerAccounts, broker_accounts, write_auth_files
from gateway.registry import Registry, register_home
from simulator.homes import make_homes
from tests.broker_auth_support import SPY, broker_url, client, with_spy
from tests.dashboard_world import fast_hashing, log_in, seed_stations
from tests.sse import sse_events

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures(fast_hashing.__name__)]

HOME = "h-0001"
CLIENT_IDS = ("eldercare-gateway", "eldercare-detector", "eldercare-alerting")
CLIENT_IDS += ("eldercare-alerting-lane", "eldercare-alerting-inputs")


async def next_frame(stream: asyncio.Queue, status: str) -> dict:
    async with asyncio.timeout(10):
        while True:
            frame = await stream.get()
            if frame["event"] == "alert" and frame["update"]["status"] == status:
                return frame


@contextlib.asynccontextmanager
async def collecting(mqtt: aiomqtt.Client, *filters: str) -> AsyncIterator[list[tuple[str, bytes]]]:
    """Everything ``mqtt`` receives on ``filters`` while the block runs, as (topic, payload)."""
    seen: list[tuple[str, bytes]] = []
    for topic_filter in filters:
        await mqtt.subscribe(topic_filter, qos=1)

    async def collect() -> None:
        async for message in mqtt.messages:
            seen.append((message.topic.value, message.payload))  # type: ignore[arg-type]

    task = asyncio.create_task(collect())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for(seen: list[tuple[str, bytes]], topics: set[str], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not topics <= {topic for topic, _ in seen}:
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def locked_system(
    tmp_path: Path, **overrides: object
) -> AsyncIterator[tuple[Settings, LocalMosquitto, BrokerAccounts]]:
    """Registry, generated accounts, a broker enforcing them, and the four services each on
    its own account."""
    clock = RealClock()
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        http_port=port,
        log_level="WARNING",
        heartbeat_s=0.5,
        **overrides,  # type: ignore[arg-type]
    )
    await seed_stations(settings.db_url, {HOME: "s-1"}, {"wangfang": ("王芳", "s-1")}, clock.now())
    engine = await prepared_engine(settings)
    (home,) = make_homes(1)
    await register_home(engine, HOME, home.devices, now=clock.now())
    accounts = with_spy(
        await broker_accounts(Registry(engine, clock), settings.topics, dashboard_ports=[port])
    )
    files = write_auth_files(accounts, tmp_path / "auth")
    with LocalMosquitto(password_file=files.password_file, acl_file=files.acl_file) as broker:
        tasks = [
            asyncio.create_task(
                run_services(
                    settings.model_copy(
                        update={"broker_url": broker_url(broker, accounts, f"_{service}")}
                    ),
                    clock,
                    [service],
                    engine=engine,
                )
            )
            for service in Service
        ]
        try:
            yield settings, broker, accounts
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engine.dispose()


async def test_each_service_does_its_job_on_its_own_account_and_nothing_else(
    tmp_path: Path,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        settings, broker, accounts = await stack.enter_async_context(locked_system(tmp_path))
        topics, p = settings.topics, settings.topics.prefix
        dashboard_id = f"eldercare-dashboard-{settings.http_port}"
        activity_id = f"{dashboard_id}-activity"  # its activity feed's session (issue 18)
        spy = await stack.enter_async_context(client(broker, accounts, SPY))
        seen = await stack.enter_async_context(collecting(spy, "#"))
        # The dashboard's account asking for everything: what does it get?
        as_dashboard = await stack.enter_async_context(client(broker, accounts, "_dashboard"))
        dashboard_seen = await stack.enter_async_context(collecting(as_dashboard, f"{p}/#"))

        # Every connection of every service could announce itself and beat.
        ids = (*CLIENT_IDS, dashboard_id, activity_id)
        await wait_for(seen, {topics.service_status(i) for i in ids})
        await wait_for(seen, {topics.service_heartbeat(i) for i in ids})

        web = await stack.enter_async_context(
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}")
        )
        await log_in(web, "wangfang")
        stream = await stack.enter_async_context(sse_events(web, "/api/alerts/stream"))
        home = await stack.enter_async_context(client(broker, accounts, HOME))
        commands = await stack.enter_async_context(collecting(home, f"{p}/{HOME}/+/cmd"))

        (simulated,) = make_homes(1)
        press = simulated.event("btn-hall", EventType.CALL_BUTTON, RealClock().now(), press="1")
        await home.publish(topics.device(HOME, "btn-hall", "event"), press.to_json(), qos=1)
        alert = (await next_frame(stream, "open"))["alert"]  # stored, and its update came
        assert (alert["home"], alert["kind"]) == (HOME, "call_button")
        acked = await web.post(f"/api/alerts/{alert['alert_id']}/ack", json={})
        assert acked.status_code == 200, acked.text
        assert (await next_frame(stream, "acknowledged"))["alert"]["acknowledged_by"] == "王芳"
        async with asyncio.timeout(10):
            while len(commands) < 2:  # the resident hears "received", then "help is coming"
                await asyncio.sleep(0.05)
        assert [json.loads(body)["command"] for _, body in commands] == [
            CommandKind.ALERT_RECEIVED,
            CommandKind.HELP_COMING,
        ]
        await home.publish(topics.device(HOME, "btn-hall", "event"), b"{not json", qos=1)
        await wait_for(seen, {f"{p}/_quarantine/{HOME}/btn-hall/event"})

        # What each account must not write; a home's own message is the sentinel after them.
        for user, forbidden in FORBIDDEN.items():
            async with client(broker, accounts, user) as service:
                for topic in forbidden:
                    await service.publish(f"{p}/{topic}", f"forged by {user}".encode(), qos=1)
        sentinel = topics.device(HOME, "btn-hall", "telemetry")
        await home.publish(sentinel, b"sentinel", qos=1)
        await wait_for(seen, {sentinel})
        await asyncio.sleep(0.3)
        assert [(topic, body) for topic, body in seen if body.startswith(b"forged by")] == []

    # Reading: the dashboard's account got the updates, the normalised activity and its own
    # presence; no raw device message, no alert, no other service's business.
    got = {topic for topic, _ in dashboard_seen}
    assert any(topics.is_alert_update(topic) for topic in got)
    assert f"{p}/_normalised/09/{HOME}/btn-hall/event" in got
    own = {topics.service_status(dashboard_id), topics.service_status(activity_id)}
    assert {t for t in got if not t.startswith(f"{p}/_normalised/")} - own == {
        t for t in got if topics.is_alert_update(t)
    }


async def test_detector_replicas_work_on_the_detector_account_under_per_shard_ids(
    tmp_path: Path,
) -> None:
    """The ACL knows every shard's session ids: each announces itself and beats, and a press
    in a home of shard 1 (of 2) becomes an alert."""
    async with contextlib.AsyncExitStack() as stack:
        settings, broker, accounts = await stack.enter_async_context(
            locked_system(tmp_path, replicas=True, shard_count=2)
        )
        topics = settings.topics
        spy = await stack.enter_async_context(client(broker, accounts, SPY))
        seen = await stack.enter_async_context(collecting(spy, "#"))
        ids = [
            shard_client_id(base, n)
            for base in ("eldercare-detector", "eldercare-detector-lane")
            for n in range(2)
        ]
        await wait_for(seen, {topics.service_status(i) for i in ids})
        await wait_for(seen, {topics.service_heartbeat(i) for i in ids})
        # The gateway reads its retained statuses back before it subscribes (a fresh broker
        # has none: a second): the press must not come before it listens.
        await wait_for(seen, {topics.service_status("eldercare-gateway")})
        home = await stack.enter_async_context(client(broker, accounts, HOME))
        (simulated,) = make_homes(1)
        press = simulated.event("btn-hall", EventType.CALL_BUTTON, RealClock().now(), press="1")
        await home.publish(topics.device(HOME, "btn-hall", "event"), press.to_json(), qos=1)
        await wait_for(seen, {topics.home_alerts(HOME)})
        assert shard_of(HOME, 2) == 1


#: Per service account, topics (below the prefix) it must not publish on.
FORBIDDEN = {
    "_dashboard": [
        f"_normalised/09/{HOME}/btn-hall/event",
        f"{HOME}/alerts",
        f"{HOME}/btn-hall/event",
        f"{HOME}/btn-hall/cmd",
        "_system/eldercare-detector/status",
    ],
    "_detector": [
        f"_normalised/09/{HOME}/btn-hall/event",
        f"{HOME}/btn-hall/event",
        "alerts/x/updates",
        f"{HOME}/btn-hall/cmd",
        "_system/eldercare-gateway/status",
    ],
    "_gateway": [
        f"{HOME}/alerts",
        "alerts/x/updates",
        f"{HOME}/btn-hall/cmd",
        "_system/eldercare-alerting/heartbeat",
    ],
    "_alerting": [
        f"_normalised/09/{HOME}/btn-hall/event",
        f"{HOME}/alerts",
        f"{HOME}/btn-hall/event",
        "_registration",
    ],
}

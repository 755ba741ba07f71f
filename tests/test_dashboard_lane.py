"""Issue 18: a call press reaches the wall while every home's events flood the dashboard.

The dashboard hears two things over MQTT: alert updates (what the wall shows) and every
home's normalised events and presence (the activity behind the homes overview). In one
session an update waited behind the whole backlog of events: at 10 000 homes that was the
largest share of a press's time on its last hop. The activity feed has a session of its
own now, and it steps aside while an update is handled: sharing the loop, each of the
update's queries waited for the interpreter behind the events. Real mosquitto; the flood
is normalised events of one home published straight to the gateway's output topic, as
fast as a separate process can.
"""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import httpx
import pytest

from alerting.api import AlertingApi, AlertView
from dashboards.activity import ActivityBoard
from dashboards.activity_log import ActivityLog
from dashboards.scope import Placement
from dashboards.service import UpdateFeed, activity_session
from dashboards.stream import Broadcaster
from eldercare.bus import MqttConnection
from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.models import AlertStatus, AlertUpdate
from eldercare.urgent_work import UrgentWork
from tests.dashboard_world import (
    build_registry,
    call_button_alert,
    fast_hashing,
    log_in,
    seed_stations,
)
from tests.harness import make_settings, running_system
from tests.presses import button_homes, flood_report, flooding, press_each, until
from tests.sse import sse_events

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures(fast_hashing.__name__)]

FLOOD_S = 8.0
PRESSES = 8
PRESS_EVERY_S = 0.5
#: Well under what the backlog cost a press in one session (seconds on this machine).
WALL_BOUND_S = 2.0


async def test_presses_reach_the_wall_past_a_flood_of_activity(mosquitto, tmp_path) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = button_homes(PRESSES)
    placements = {home.home_id: "s-1" for home in homes}
    await seed_stations(settings.db_url, placements, {"wang": ("王芳", "s-1")}, RealClock().now())
    topics = settings.topics
    flood_home = "h-flood"
    # The flood publisher writes {prefix}/{home}/{device}/event: here the gateway's output.
    flood_prefix = topics.normalised(flood_home, "pir", "event").rsplit("/", 3)[0]
    base = f"http://127.0.0.1:{settings.http_port}"
    async with (
        running_system(settings, homes),
        httpx.AsyncClient(base_url=base) as wall,
        aiomqtt.Client("127.0.0.1", mosquitto.port) as client,
    ):
        await log_in(wall, "wang")
        async with sse_events(wall, "/api/alerts/stream") as stream:
            seen: dict[str, float] = {}

            async def watch() -> None:
                while True:
                    frame = await stream.get()
                    seen.setdefault(frame["alert"]["home"], time.monotonic())

            watcher = asyncio.create_task(watch())
            flood_args = (flood_prefix, flood_home, "pir", "0", str(FLOOD_S))  # flat out
            try:
                async with flooding(mosquitto.port, *flood_args) as flood:
                    pressed = await press_each(client, topics, homes, PRESS_EVERY_S)
                    await until(lambda: len(seen) >= len(pressed), WALL_BOUND_S)
                    rate = (await flood_report(flood))["rate"]
            finally:
                watcher.cancel()
    waited = {
        home: round(seen[home] - at, 2) if home in seen else None for home, at in pressed.items()
    }
    late = {home: s for home, s in waited.items() if s is None or s > WALL_BOUND_S}
    assert not late, (
        f"presses missing (None) or later than {WALL_BOUND_S} s at {rate:.0f}/s: {late}"
    )


#: How long the update's reads take in the test below: at 10 000 homes they took 50-300 ms.
SLOW_READ_S = 0.3


class SlowReads(AlertingApi):
    """The alert read as slowly as under load, so the feed has time to interleave."""

    async def get(self, alert_id: str, *, responder_info: bool = False) -> AlertView:
        await asyncio.sleep(SLOW_READ_S)
        return await super().get(alert_id, responder_info=responder_info)


class HandledWhenShown(Broadcaster):
    """How many events the activity feed had handled when the update's frame went out."""

    activity: MqttConnection
    handled_when_shown = 0

    def publish(self, event: str, data: dict[str, object], placement: Placement) -> None:
        self.handled_when_shown = self.activity.handled
        super().publish(event, data, placement)


async def test_the_activity_feed_steps_aside_while_an_update_is_handled(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    clock = RealClock()
    engine = await prepared_engine(settings)
    await build_registry(engine, clock.now())
    api = SlowReads(engine, clock)
    alert = call_button_alert("h-1", clock.now())
    await api.record(alert)
    urgent = UrgentWork()
    walls = HandledWhenShown()
    feed = UpdateFeed(api, walls, engine, urgent)
    board = ActivityBoard(settings.topics, ActivityLog(engine, clock, urgent))
    activity = activity_session(settings, "test-dashboard-activity", board, urgent)
    walls.activity = activity
    flood_prefix = settings.topics.normalised("h-flood", "pir", "event").rsplit("/", 3)[0]
    update = AlertUpdate(
        alert_id=alert.alert_id, home="h-1", status=AlertStatus.OPEN, at=clock.now()
    )
    runner = asyncio.create_task(activity.run())
    try:
        await asyncio.wait_for(activity.connected.wait(), 10)
        async with flooding(mosquitto.port, flood_prefix, "h-flood", "pir", "0", str(FLOOD_S)):
            await until(lambda: activity.handled >= 100, 5)
            before = activity.handled
            assert before >= 100, "the flood reached the activity feed"
            await feed.handle(settings.topics.alert_updates(alert.alert_id), update.to_json())
            await feed.shown()
            during = walls.handled_when_shown - before
            await until(lambda: activity.handled >= before + 100, 5)
            after = activity.handled - before - during
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await engine.dispose()
    assert during == 0, f"{during} events handled while the update was (in {SLOW_READ_S} s)"
    assert after >= 100, "the feed goes on once the update is shown"

"""Acceptance: a call-button press climbs the escalation ladder over real MQTT and real HTTP
webhooks, on a simulated clock, until someone takes it through the link in their message."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import httpx
import pytest

from alerting.api import AlertingApi
from eldercare.app.runtime import Service
from eldercare.clock import SimulatedClock
from eldercare.db import prepared_engine
from eldercare.models import AlertUpdate, CommandKind
from simulator.homes import make_homes
from simulator.runner import Simulator
from tests.alerting_support import (
    CLIMB_TO_CENTRE_THEN_ACK,
    WebhookReceiver,
    ack_link_app,
    seed_registry,
)
from tests.harness import make_settings, running_system

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)  # 08:14 in Shanghai
PUBLIC = "https://care.example"


def policies_with_emergency(folder: Path, hooks: WebhookReceiver) -> Path:
    (folder / "stations").mkdir(parents=True)
    (folder / "stations" / "s-1.yaml").write_text(
        f"channels:\n  emergency: ['{hooks.url('/emergency/120')}']\n"
    )
    return folder


async def until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def all_recorded_as_sent(api: AlertingApi) -> None:
    [alert] = await api.list(unresolved_only=True)
    async with asyncio.timeout(5):
        while {n.status for n in await api.notifications(alert.alert_id)} != {"sent"}:
            await asyncio.sleep(0.02)


def ack_path(message_body: str) -> str:
    match = re.search(rf"{re.escape(PUBLIC)}(/ack/\S+)", message_body)
    assert match, message_body
    return match[1]


async def test_call_button_climbs_station_family_centre_until_acknowledged(
    mosquitto, tmp_path
) -> None:
    clock = SimulatedClock(START)
    homes = make_homes(1)
    async with WebhookReceiver() as hooks:
        settings = make_settings(
            mosquitto,
            tmp_path,
            policies_dir=policies_with_emergency(tmp_path / "policies", hooks),
            public_url=PUBLIC,
            secret_key="an-example-secret-of-32-characters!",
        )
        engine = await prepared_engine(settings)
        await seed_registry(engine, hooks, START)
        simulator = Simulator(settings, clock, homes)
        services = [Service.GATEWAY, Service.DETECTOR, Service.ALERTING]
        async with (
            running_system(settings, homes, clock, services),
            aiomqtt.Client("127.0.0.1", mosquitto.port) as bus,
            asyncio.TaskGroup() as group,
        ):
            sim_task = group.create_task(simulator.connection.run())
            await simulator.connection.connected.wait()

            await simulator.press_call_button("h-0001")
            [station] = await hooks.wait_for("/station/wang")
            assert station.body["title"] == "【紧急】一键呼叫：张秀英"
            assert "和平路 12 号 3 单元 501" in station.body["message"]
            assert "2026-11-25 08:14" in station.body["message"]
            assert station.key.endswith(".t0.staff:wang")
            # the resident's button hears back at once
            await until(lambda: [c.command for c in simulator.commands] == ["alert_received"])
            assert simulator.commands[0].device == "btn-hall"

            await clock.advance(119)
            await asyncio.sleep(0.3)
            assert hooks.to("/family/liming-push") == []
            await clock.advance(1)  # T+2 min, nobody acknowledged
            [son] = await hooks.wait_for("/family/liming-push")
            [daughter] = await hooks.wait_for("/family/lihua")
            assert "老人：张秀英" in son.body["message"]
            assert daughter.body["title"] == "[URGENT] Call button: 张秀英"
            assert "(2 min ago)" in daughter.body["message"]
            assert hooks.to("/family/liming-sms") == []  # push took it: no failover needed
            assert hooks.to("/centre/zhou") == []

            # the outbox records a delivery just after the POST lands; let it, so that the
            # timeline below has one order to assert
            await all_recorded_as_sent(AlertingApi(engine, clock))
            await clock.advance(480)  # T+10 min
            [centre] = await hooks.wait_for("/centre/zhou")
            assert "(10 min ago)" not in centre.body["message"]  # that one is Chinese
            assert "10 分钟前" in centre.body["message"]

            # 周主任 takes it from the link in her message
            async def publish(update: AlertUpdate) -> None:
                await bus.publish(
                    settings.topics.alert_updates(update.alert_id), update.to_json(), qos=1
                )

            api = AlertingApi.from_settings(engine, clock, settings)
            app = ack_link_app(api, publish, engine, clock)
            await all_recorded_as_sent(api)
            await clock.advance(15)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://t"
            ) as client:
                page = await client.post(ack_path(centre.body["message"]))
            assert page.status_code == 200, page.text

            await until(lambda: len(simulator.commands) == 2)
            coming = simulator.commands[1]
            assert (coming.command, coming.by) == (CommandKind.HELP_COMING, "周主任")
            assert coming.text is not None and coming.text.zh_cn == "周主任 已收到，正在赶来"

            # everyone asked before hears that someone has it
            _, daughter_taken = await hooks.wait_for("/family/lihua", count=2)
            assert daughter_taken.body["title"] == "[Taken] Call button: 张秀英"
            assert "周主任 took responsibility at 08:24" in daughter_taken.body["message"]
            _, son_taken = await hooks.wait_for("/family/liming-push", count=2)
            assert son_taken.body["message"].startswith("周主任 已于 08:24 确认并负责处理")
            await hooks.wait_for("/station/wang", count=2)

            await clock.advance(600)  # T+20 min: the emergency tier would have been due
            await asyncio.sleep(0.5)
            assert hooks.to("/emergency/120") == []
            assert len(hooks.received) == 4 + 3
            assert hooks.to("/centre/zhou") == [centre]  # the one who took it is not told

            [alert] = await api.list(unresolved_only=True)
            timeline = await api.timeline(alert.alert_id)
            sim_task.cancel()
        await engine.dispose()

    steps = [(e.status.value, e.actor, e.note or "") for e in timeline]
    assert [s for s, _, _ in steps] == CLIMB_TO_CENTRE_THEN_ACK
    assert steps[1][2].startswith("tier 0 (station) at T+0s")
    assert steps[3][2].startswith("tier 1 (family) at T+120s")
    assert steps[6][2].startswith("tier 2 (centre) at T+600s")
    assert steps[8][1] == "周主任"
    assert timeline[8].channel == "link"
    assert (timeline[8].at - START).total_seconds() == 615

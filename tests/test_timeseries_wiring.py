"""Gateway and detector, given a time-series server, write what they see and decide."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import aiomqtt
import pytest

from detector.rules import BaseRule, RuleOutput
from detector.service import run as run_detector
from eldercare.app.runtime import Service
from eldercare.clock import RealClock
from eldercare.models import Event, EventType, Metric, SeriesPoint, Telemetry
from simulator.homes import make_homes
from tests.harness import make_settings, running_system, wait_for_services
from tests.victoria import LocalVictoriaMetrics, victoria_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


async def test_gateway_writes_events_telemetry_and_quarantine(
    mosquitto,  # type: ignore[no-untyped-def]
    victoria: LocalVictoriaMetrics,
    tmp_path,
) -> None:
    settings = make_settings(
        mosquitto, tmp_path, influx_url=victoria.url, influx_token="test-token"
    )
    topics = settings.topics
    now = datetime.now(UTC).replace(microsecond=123000)
    motion = Event(home="h-0001", device="pir-living-room", seq=7, ts=now, type=EventType.MOTION)
    battery = Telemetry(
        home="h-0001", device="pendant", seq=8, ts=now, metric=Metric.BATTERY, value=87
    )
    async with (
        running_system(settings, make_homes(2), services=[Service.GATEWAY]),
        aiomqtt.Client(settings.broker.host, settings.broker.port) as client,
    ):
        await client.publish(
            topics.device("h-0001", "pir-living-room", "event"), motion.to_json(), 1
        )
        await client.publish(topics.device("h-0001", "pendant", "telemetry"), battery.to_json(), 1)
        await client.publish(topics.device("h-0002", "btn-hall", "event"), b"{not json", 1)
        names: set[str] = set()
        async with asyncio.timeout(15):
            while not {"event_count", "telemetry_value", "quarantine_count"} <= names:
                await asyncio.sleep(0.2)
                stored = await asyncio.to_thread(victoria.export)
                names = {name for name, *_ in stored}
    ms = int(now.timestamp()) * 1000 + 123
    labels = (
        ("device", "pir-living-room"),
        ("home", "h-0001"),
        ("room", "living_room"),
        ("type", "motion"),
    )
    assert stored[("event_count", labels, ms, 1.0)] == 1
    assert stored[("event_seq", labels, ms, 7.0)] == 1
    battery_labels = (("device", "pendant"), ("home", "h-0001"), ("type", "battery"))
    assert stored[("telemetry_value", battery_labels, ms, 87.0)] == 1
    [quarantined] = [key for key in stored if key[0] == "quarantine_count"]
    assert dict(quarantined[1]) == {"home": "h-0002", "device": "btn-hall", "type": "schema"}


class ScoreRule(BaseRule):
    """A rule that scores every event: stands in for the fall and inactivity models."""

    name = "score"

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        point = SeriesPoint(
            measurement="detector_score",
            tags={"home": event.home, "rule": self.name},
            fields={"score": 0.25},
            ts=event.ts,
        )
        return RuleOutput(points=[point])


async def test_detector_writes_rule_points(
    mosquitto,  # type: ignore[no-untyped-def]
    victoria: LocalVictoriaMetrics,
    tmp_path,
) -> None:
    settings = make_settings(
        mosquitto, tmp_path, influx_url=victoria.url, influx_token="test-token"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    motion = Event(home="h-0003", device="pir", seq=1, ts=now, type=EventType.MOTION)
    task = asyncio.create_task(run_detector(settings, RealClock(), rules=[ScoreRule()]))
    try:
        await wait_for_services(settings, ["eldercare-detector"])
        async with aiomqtt.Client(settings.broker.host, settings.broker.port) as client:
            topic = settings.topics.normalised("h-0003", "pir", "event")
            await client.publish(topic, motion.to_json(), qos=1)
            async with asyncio.timeout(15):
                while not (stored := await asyncio.to_thread(victoria.export)):
                    await asyncio.sleep(0.2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    labels = (("home", "h-0003"), ("rule", "score"))
    assert stored == {("detector_score_score", labels, int(now.timestamp()) * 1000, 0.25): 1}

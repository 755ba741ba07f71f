"""Restart over a real broker: the detector is stopped mid-morning and started again from its
checkpoint; the no-wake-up alert is published once, at the learned time, and not again after
a further restart."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiomqtt
import pytest

from detector.activity.rule import InactivityRule
from detector.checkpoint import StateFile
from eldercare.app.runtime import Service
from eldercare.clock import SimulatedClock
from eldercare.models import Alert, AlertKind, Event, EventType
from simulator.homes import make_homes
from tests.harness import make_settings, running_system

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the registry's default zone for a home


def learned_rule(home: str, first_day: datetime, days: int) -> InactivityRule:
    """A rule that has lived through ``days`` ordinary days: up at 07:00, busy until 22:00."""
    rule = InactivityRule()
    seq = 0

    def send(device: str, at: datetime) -> None:
        nonlocal seq
        seq += 1
        event = Event(home=home, device=device, seq=seq, ts=at, type=EventType.MOTION)
        rule.on_event(event, at)

    for day in range(days):
        start = first_day + timedelta(days=day)
        send("pir-bedroom", start + timedelta(hours=6, minutes=50))
        at = start + timedelta(hours=7)
        while at < start + timedelta(hours=22):
            send("pir-living", at)
            at += timedelta(minutes=20)
        send("pir-bedroom", start + timedelta(hours=22, minutes=5))
    return rule


async def collect(settings, found: list[Alert], ready: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    broker = settings.broker
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(settings.topics.all_alerts_filter, qos=1)
        ready.set()
        async for message in client.messages:
            found.append(Alert.model_validate_json(message.payload))  # type: ignore[arg-type]


async def test_no_wake_up_fires_once_across_a_detector_restart(mosquitto, tmp_path) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = make_homes(1)
    home = homes[0].home_id
    first_day = datetime(2026, 1, 5, tzinfo=SHANGHAI)
    StateFile(tmp_path / "detector-state.json").save([learned_rule(home, first_day, 8)])
    today = first_day + timedelta(days=8)
    clock = SimulatedClock((today + timedelta(hours=6)).astimezone(UTC))
    services = [Service.GATEWAY, Service.DETECTOR]
    found: list[Alert] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(collect(settings, found, ready))
    async with asyncio.timeout(10):
        await ready.wait()
    try:
        async with running_system(settings, homes, clock, services):
            await clock.advance_to(today + timedelta(hours=7))  # killed at 07:00, not yet due
        assert found == []
        async with running_system(settings, homes, clock, services):
            for _ in range(5 * 6):  # to 12:00, in 10-minute steps so publishes get out
                await clock.advance(600)
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
        async with running_system(settings, homes, clock, services):  # restarted after it
            for _ in range(6):
                await clock.advance(600)
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    wake = [alert for alert in found if alert.kind is AlertKind.NO_WAKE_UP]
    assert len(wake) == 1, found
    raised = wake[0].raised_at.astimezone(SHANGHAI)
    assert (
        today + timedelta(hours=7, minutes=30) <= raised <= today + timedelta(hours=8, minutes=30)
    )
    assert "07:45" in wake[0].explanation.en

"""Broker mode against a real mosquitto: paced lives, flat-out load, dropped connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest

from eldercare.clock import RealClock
from eldercare.models import CommandKind, DeviceCommand, EventType
from simulator.faults import FaultPlan
from simulator.homes import make_homes
from simulator.life import LifeConfig
from simulator.runner import Simulator, local_today
from simulator.stream import normal_lives
from tests.harness import make_settings

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def spy(mosquitto, prefix: str):  # type: ignore[no-untyped-def]
    """A plain subscriber collecting (topic, payload) of every device message."""
    seen: list[tuple[str, bytes]] = []
    async with aiomqtt.Client(
        "127.0.0.1", mosquitto.port, max_queued_incoming_messages=0
    ) as client:
        await client.subscribe(f"{prefix}/+/+/+", qos=1)

        async def collect() -> None:
            async for message in client.messages:
                seen.append((message.topic.value, bytes(message.payload)))  # type: ignore[arg-type]

        task = asyncio.create_task(collect())
        try:
            yield seen
        finally:
            await asyncio.sleep(0.5)
            task.cancel()


async def test_flood_publishes_a_simulated_hour_and_reports_the_rate(mosquitto, tmp_path) -> None:
    settings = make_settings(mosquitto, tmp_path)
    lives = normal_lives(5, seed=1, topics=settings.topics)
    expected = sum(
        1 for life in normal_lives(5, seed=1) for _ in life.emissions(LifeConfig().start + 3600)
    )
    simulator = Simulator(settings, RealClock(), [life.home for life in lives], lives=lives)
    async with spy(mosquitto, settings.topics.prefix) as seen:
        report = await simulator.flood(3600)
    assert report.messages == expected
    assert report.rate > 100
    assert f"{report.messages} messages" in report.summary()
    events = [payload for topic, payload in seen if topic.endswith("/event")]
    assert events, "events reached a subscriber"
    assert len(seen) >= report.messages * 0.99


async def test_paced_life_survives_dropped_connections_without_losing_events(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    config = LifeConfig(first_day=local_today(RealClock()))
    lives = normal_lives(3, seed=2, config=config, topics=settings.topics)
    simulator = Simulator(
        settings,
        RealClock(),
        [life.home for life in lives],
        lives=lives,
        faults=FaultPlan(disconnect_every_s=0.4),
    )
    async with spy(mosquitto, settings.topics.prefix) as seen, asyncio.TaskGroup() as group:
        connection = group.create_task(simulator.connection.run())
        await simulator.connection.connected.wait()
        faults = group.create_task(simulator.disconnects(0.4))
        # two simulated hours at 1200×: about six seconds, with a dropped link every 0.4 s
        await asyncio.wait_for(simulator.live(speed=1200, duration=2 * 3600), timeout=60)
        faults.cancel()
        connection.cancel()
    assert simulator.published > 50
    # Devices count seq over events and telemetry; the pendant's accelerometer windows are
    # QoS 0 (may be dropped by design), so the pendant is left out of the gap check.
    messages = [
        json.loads(payload)
        for topic, payload in seen
        if topic.endswith(("/event", "/telemetry")) and "/pendant/" not in topic
    ]
    seqs = {(m["home"], m["device"], m["seq"]) for m in messages}
    # every device's seq runs without a gap: nothing was lost across reconnects
    by_device: dict[tuple[str, str], list[int]] = {}
    for home, device, seq in seqs:
        by_device.setdefault((home, device), []).append(seq)
    for key, numbers in by_device.items():
        numbers.sort()
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), key
    assert len(seqs) > 50


def test_simulate_command_floods_and_reports_messages_per_second(mosquitto) -> None:
    """``eldercare simulate --rate max`` as a user runs it: a process against a broker."""
    command = [
        str(Path(sys.executable).with_name("eldercare")),
        "simulate", "--broker", mosquitto.url, "--homes", "20", "--rate", "max",
        "--duration", "1800", "--no-register",
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"published (\d+) messages .* from 20 homes .*: (\d+) msg/s", result.stdout)
    assert match, result.stdout
    assert int(match.group(1)) > 20 * 16 and int(match.group(2)) > 0


async def test_terminals_record_commands_sent_back_to_the_home(mosquitto, tmp_path) -> None:
    """Closing the loop to the resident: what is published on a device's cmd topic is kept."""
    settings = make_settings(mosquitto, tmp_path)
    lives = normal_lives(2, seed=3, topics=settings.topics)
    simulator = Simulator(settings, RealClock(), [life.home for life in lives], lives=lives)
    topic = settings.topics.device("h-0002", "btn-hall", "cmd")
    command = DeviceCommand(
        home="h-0002",
        device="btn-hall",
        command=CommandKind.ALERT_RECEIVED,
        alert_id="01J",
        at=RealClock().now(),
    )
    async with asyncio.TaskGroup() as group:
        task = group.create_task(simulator.connection.run())
        await simulator.connection.connected.wait()
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as station:
            # another home's command first: in-order delivery proves it was seen and ignored
            await station.publish(settings.topics.device("h-9999", "x", "cmd"), b"{}", qos=1)
            await station.publish(topic, command.to_json(), qos=1)
        async with asyncio.timeout(3):
            while not simulator.commands:
                await asyncio.sleep(0.02)
        task.cancel()
    assert simulator.commands == [command]


async def test_a_restarted_simulator_does_not_reuse_sequence_numbers(mosquitto, tmp_path) -> None:
    """Otherwise the gateway's duplicate filter would swallow the second run's first press."""
    settings = make_settings(mosquitto, tmp_path)
    first = Simulator(settings, RealClock(), make_homes(1))
    await asyncio.sleep(0.01)
    second = Simulator(settings, RealClock(), make_homes(1))
    at = RealClock().now()
    one = first.homes["h-0001"].event("btn-hall", EventType.CALL_BUTTON, at)
    two = second.homes["h-0001"].event("btn-hall", EventType.CALL_BUTTON, at)
    assert two.seq > one.seq > 1

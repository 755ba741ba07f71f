"""Broker mode: simulated homes' lives published to a real MQTT broker.

Each home's life (``simulator.life``) is paced against the clock — real time, or faster
with ``speed`` — or published flat out by ``flood`` to measure what a broker and the
services behind it take. Presses of the call button can come from standard input or at
random, on top of the resident's routine.
"""

from __future__ import annotations

import asyncio
import random
import socket
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError

from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import DeviceCommand, DeviceState, Event, EventType
from eldercare.settings import Settings
from eldercare.topics import Channel
from simulator.faults import FaultPlan
from simulator.homes import CHINA, Emission, SimulatedHome
from simulator.layout import WALL_BUTTON
from simulator.life import HomeLife, LifeConfig
from simulator.profiles import profile
from simulator.stream import run_stream

log = get_logger("simulator")

#: Publishes in flight at once when flooding: enough to hide the loopback round trip.
FLOOD_WINDOW = 256
#: A paced publisher sleeps only for gaps longer than this (wall seconds).
MIN_SLEEP_S = 0.005
#: A paced publisher logs its achieved rate this often (wall seconds).
RATE_LOG_S = 60.0


@dataclass(frozen=True, slots=True)
class FloodReport:
    messages: int
    payload_bytes: int
    wall_s: float
    homes: int
    simulated_s: float

    @property
    def rate(self) -> float:
        return self.messages / self.wall_s if self.wall_s else 0.0

    def summary(self) -> str:
        return (
            f"published {self.messages} messages ({self.payload_bytes / 1e6:.1f} MB) from "
            f"{self.homes} homes covering {self.simulated_s / 60:.0f} simulated minutes in "
            f"{self.wall_s:.1f} s: {self.rate:.0f} msg/s"
        )


class Simulator:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        homes: Sequence[SimulatedHome],
        seed: int = 0,
        *,
        lives: Sequence[HomeLife] | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.settings = settings
        self.topics = settings.topics
        self.clock = clock
        self.homes = {home.home_id: home for home in homes}
        # A second run against the same gateway must not reuse seq 1, 2, … (the gateway would
        # drop them as duplicates — a call-button press included): count from the start time.
        for home in homes:
            home.seq_base = max(home.seq_base, int(clock.now().timestamp() * 1000))
        self.random = random.Random(seed)
        self.seed = seed
        self.faults = faults or FaultPlan()
        self.lives = list(lives) if lives is not None else self._default_lives(homes, seed)
        self.connection = MqttConnection(
            settings,
            f"eldercare-simulator-{seed}",
            [self.topics.raw_device_filter(Channel.CMD)],
            self._on_command,
            persistent=False,
            on_connect=self._presence(),
        )
        self.published = 0
        #: What the homes' terminals were told (alert_received, help_coming), in order.
        self.commands: list[DeviceCommand] = []

    async def _on_command(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """A terminal lighting up: record the confirmation so scenarios can assert it."""
        try:
            command = DeviceCommand.model_validate_json(payload)
        except ValidationError:
            log.warning("command_invalid", topic=topic)
            return []
        if command.home in self.homes:
            log.info(
                "command_received", home=command.home, device=command.device, cmd=command.command
            )
            self.commands.append(command)
        return []

    def _default_lives(self, homes: Iterable[SimulatedHome], seed: int) -> list[HomeLife]:
        config = LifeConfig(first_day=local_today(self.clock))
        return [HomeLife(home, profile("typical"), seed, config) for home in homes]

    def _presence(self) -> list[Outgoing]:
        now = self.clock.now().timestamp()
        return [
            _outgoing(home.status(spec.id, DeviceState.ONLINE, now))
            for home in self.homes.values()
            for spec in home.devices
        ]

    async def send(self, event: Event) -> None:
        await self.connection.publish(
            Outgoing(self.topics.device(event.home, event.device, Channel.EVENT), event.to_json())
        )
        self.published += 1

    async def press_call_button(self, home_id: str, device: str = WALL_BUTTON) -> Event:
        """What the resident does in an emergency; returns the event that was sent."""
        event = self.homes[home_id].event(
            device, EventType.CALL_BUTTON, self.clock.now(), press="single"
        )
        log.info("call_button_pressed", home=home_id, device=device, seq=event.seq)
        await self.send(event)
        return event

    async def live(self, speed: float = 1.0, duration: float | None = None) -> FloodReport:
        """Publish the homes' lives paced against the clock, from now on.

        Life is generated from local midnight so routines are in their right place in the
        day; what would have happened before now is lived but not sent.
        """
        now = self.clock.now().timestamp()
        until = now + (duration if duration is not None else 10 * 365 * 86400.0)
        stream = run_stream(self.lives, until, self.faults, self.seed, since=now)
        wall0 = time.monotonic()
        count = size = 0
        reported, reported_count = wall0, 0
        for emission in stream:
            wait = (emission.at - now) / speed - (time.monotonic() - wall0)
            if wait > MIN_SLEEP_S:
                await asyncio.sleep(wait)  # pacing is wall time by definition
            await self.connection.publish(_outgoing(emission))
            count += 1
            size += len(emission.payload)
            self.published += 1
            if time.monotonic() - reported >= RATE_LOG_S:
                rate = (count - reported_count) / (time.monotonic() - reported)
                log.info("publish_rate", homes=len(self.lives), msg_per_s=round(rate, 1))
                reported, reported_count = time.monotonic(), count
        wall = time.monotonic() - wall0
        return FloodReport(count, size, wall, len(self.lives), until - now)

    async def flood(self, simulated_s: float) -> FloodReport:
        """Publish ``simulated_s`` of every home's life as fast as the broker takes it."""
        lives = self.lives
        start = min(life.config.start for life in lives)
        stream = run_stream(lives, start + simulated_s, self.faults, self.seed)
        # Its own connection: the stream starts with every device's presence, so the
        # per-connect presence of the paced mode would only double it.
        connection = MqttConnection(
            self.settings, f"{self.connection.client_id}-flood", persistent=False
        )
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(connection.run())
            await connection.connected.wait()
            client = connection._client
            if client is not None:  # aiomqtt warns per call beyond 10 in flight otherwise
                client.pending_calls_threshold = FLOOD_WINDOW * 2
            began = time.perf_counter()
            count = size = 0
            batch: list[Outgoing] = []
            for emission in stream:
                batch.append(_outgoing(emission))
                size += len(emission.payload)
                if len(batch) == FLOOD_WINDOW:
                    await asyncio.gather(*(connection.publish(item) for item in batch))
                    count += len(batch)
                    batch.clear()
            await asyncio.gather(*(connection.publish(item) for item in batch))
            count += len(batch)
            wall = time.perf_counter() - began
            runner.cancel()
        self.published += count
        return FloodReport(count, size, wall, len(lives), simulated_s)

    async def random_presses(self, mean_interval_s: float) -> None:
        """Presses at random homes, exponentially spaced: demo traffic on top of daily life."""
        while True:
            await self.clock.sleep(self.random.expovariate(1 / mean_interval_s))
            await self.press_call_button(self.random.choice(sorted(self.homes)))

    async def commands_from_stdin(self) -> None:
        """``press h-0001`` on standard input presses that home's button."""
        while line := await asyncio.to_thread(sys.stdin.readline):
            words = line.split()
            if len(words) == 2 and words[0] == "press" and words[1] in self.homes:
                await self.press_call_button(words[1])
            elif words:
                print(f"unknown command {line.strip()!r}; try: press {next(iter(self.homes))}")

    async def disconnects(self, every_s: float) -> None:
        """Fault: cut the TCP connection now and then, as a flaky home uplink does."""
        while True:
            await asyncio.sleep(every_s)  # a network fault happens in wall time
            client = self.connection._client
            if client is not None:
                log.info("simulated_disconnect", client_id=self.connection.client_id)
                raw = client._client.socket()
                if raw is not None:
                    raw.shutdown(socket.SHUT_RDWR)

    async def run(
        self,
        press_every: float | None = None,
        interactive: bool = False,
        speed: float = 1.0,
        duration: float | None = None,
    ) -> FloodReport | None:
        """Until cancelled, or until ``duration`` simulated seconds have been published
        (then it returns what was published and the achieved rate)."""
        async with asyncio.TaskGroup() as group:
            helpers = [group.create_task(self.connection.run())]
            await self.connection.connected.wait()
            life = group.create_task(self.live(speed, duration))
            if press_every:
                helpers.append(group.create_task(self.random_presses(press_every)))
            if interactive:
                helpers.append(group.create_task(self.commands_from_stdin()))
            if self.faults.disconnect_every_s:
                helpers.append(group.create_task(self.disconnects(self.faults.disconnect_every_s)))
            if duration is not None:
                await life
                for task in helpers:
                    task.cancel()
        return life.result() if duration is not None else None


def local_today(clock: Clock) -> date:
    """Today where the homes are, so a live run starts at the right hour of their day."""
    return clock.now().astimezone(CHINA).date()


def _outgoing(emission: Emission) -> Outgoing:
    return Outgoing(emission.topic, emission.payload, qos=emission.qos, retain=emission.retain)

"""Drives simulated homes onto a real broker: heartbeats, presence and call-button presses."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import DeviceCommand, DeviceState, DeviceStatus, Event, EventType
from eldercare.settings import Settings
from eldercare.topics import Channel
from simulator.homes import SimulatedHome

log = get_logger("simulator")

HEARTBEAT_S = 60.0


class Simulator:
    def __init__(
        self, settings: Settings, clock: Clock, homes: Sequence[SimulatedHome], seed: int = 0
    ) -> None:
        self.topics = settings.topics
        self.clock = clock
        self.homes = {home.home_id: home for home in homes}
        self.random = random.Random(seed)
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

    def _presence(self) -> list[Outgoing]:
        return [
            Outgoing(
                self.topics.device(home.home_id, device.id, Channel.STATUS),
                DeviceStatus(
                    home=home.home_id, device=device.id, state=DeviceState.ONLINE
                ).to_json(),
                retain=True,
            )
            for home in self.homes.values()
            for device in home.devices
        ]

    async def send(self, event: Event) -> None:
        await self.connection.publish(
            Outgoing(self.topics.device(event.home, event.device, Channel.EVENT), event.to_json())
        )
        self.published += 1

    async def press_call_button(self, home_id: str, device: str = "btn-hall") -> Event:
        """What the resident does in an emergency; returns the event that was sent."""
        event = self.homes[home_id].event(
            device, EventType.CALL_BUTTON, self.clock.now(), press="single"
        )
        log.info("call_button_pressed", home=home_id, device=device, seq=event.seq)
        await self.send(event)
        return event

    async def heartbeats(self) -> None:
        while True:
            for home in self.homes.values():
                for device in home.devices:
                    await self.send(home.event(device.id, EventType.HEARTBEAT, self.clock.now()))
            await self.clock.sleep(HEARTBEAT_S)

    async def random_presses(self, mean_interval_s: float) -> None:
        """Presses at random homes, exponentially spaced: demo traffic, not a resident model."""
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

    async def run(self, press_every: float | None = None, interactive: bool = False) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.connection.run())
            await self.connection.connected.wait()
            group.create_task(self.heartbeats())
            if press_every:
                group.create_task(self.random_presses(press_every))
            if interactive:
                group.create_task(self.commands_from_stdin())

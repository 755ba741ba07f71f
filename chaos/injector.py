"""Publishes what the plan says, as devices would: triggers on time, and the bad traffic.

Scripted rather than the simulator's random lives, so that the list of alerts that MUST
exist is exact. Every publish is retried across broker restarts (bounded), and the moment
a trigger was accepted by the broker is kept for the wall-latency check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

import aiomqtt

from chaos.schedule import FLOOD_DEVICE, NOISE_DEVICE, Fault, FaultKind, Trigger
from eldercare.clock import Clock
from eldercare.models import Event, EventType
from eldercare.topics import Channel, Topics
from simulator.homes import CHINA
from simulator.layout import BED

PUBLISH_TRIES_S = 30.0
#: aiomqtt warns for every publish queued behind the in-flight window: a flood queues 200.
QUIET = logging.getLogger("chaos.mqtt")
QUIET.setLevel(logging.ERROR)
FLOOD_WINDOW = 200
Message = tuple[str, bytes]


class Injector:
    def __init__(self, port: int, topics: Topics, clock: Clock) -> None:
        self.port, self.topics, self.clock = port, topics, clock
        self.published: dict[int, float] = {}
        self.payloads: dict[int, bytes] = {}
        self._noise_seq = 10_000_000

    async def publish(self, messages: Sequence[Message], qos: int = 1) -> float | None:
        """Publish all, in order, reconnecting across broker restarts; when the last was
        accepted (monotonic), or None if the broker stayed away."""
        remaining = list(messages)
        give_up = time.monotonic() + PUBLISH_TRIES_S
        while time.monotonic() < give_up:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", self.port, timeout=5, logger=QUIET
                ) as client:
                    while remaining:
                        window = remaining[:FLOOD_WINDOW]
                        await asyncio.gather(*(client.publish(t, p, qos=qos) for t, p in window))
                        del remaining[: len(window)]
                return time.monotonic()
            except aiomqtt.MqttError:
                await asyncio.sleep(0.5)
        return None

    def _event(self, home: str, device: str, kind: EventType, seq: int, skew_s: float = 0) -> bytes:
        ts = self.clock.now().astimezone(CHINA) + timedelta(seconds=skew_s)
        return Event(home=home, device=device, seq=seq, ts=ts, type=kind).to_json()

    def _topic(self, home: str, device: str) -> str:
        return self.topics.device(home, device, Channel.EVENT)

    async def trigger(self, trigger: Trigger) -> None:
        payload = self._event(trigger.home, trigger.device, trigger.event, trigger.seq)
        self.payloads[trigger.id] = payload
        done = await self.publish([(self._topic(trigger.home, trigger.device), payload)])
        if done is not None:
            self.published[trigger.id] = done

    async def in_bed(self, home: str) -> None:
        """The no-wake-up home's one sign of life: it went to bed and stayed there."""
        await self.publish(
            [(self._topic(home, BED), self._noise(home, BED, EventType.BED_OCCUPIED))]
        )

    def _noise(self, home: str, device: str, kind: EventType, skew_s: float = 0) -> bytes:
        self._noise_seq += 1
        return self._event(home, device, kind, self._noise_seq, skew_s)

    def bad_traffic(self, fault: Fault, triggers: dict[int, Trigger]) -> list[Message]:
        """The messages of a traffic fault (the triggers a fault names are published as
        triggers, on their own times)."""
        home = fault.targets[0] if fault.targets else ""
        if fault.kind is FaultKind.GARBAGE:
            topic = self._topic(home, NOISE_DEVICE)
            bodies = [b"\x00\xff garbage", b"{not json", b'{"schema": 1}', b"[]", b"null", b"{}"]
            messages = []
            for i in range(fault.count):
                self._noise_seq += 1  # unique bytes: quarantine records are told apart by them
                messages.append((topic, bodies[i % len(bodies)] + str(self._noise_seq).encode()))
            return messages
        if fault.kind is FaultKind.CLOCK_SKEW:
            topic = self._topic(home, NOISE_DEVICE)
            return [
                (topic, self._noise(home, NOISE_DEVICE, EventType.MOTION, skew_s=3600))
                for _ in range(fault.count)
            ]
        if fault.kind is FaultKind.POISON:
            self._noise_seq += 1  # unique bytes, as for garbage
            poison = b'{"schema": 1, "alert_id": "poison-%d"' % self._noise_seq
            return [(self.topics.home_alerts(home), poison)]
        if fault.kind is FaultKind.DUPLICATES:
            [trigger_id] = fault.trigger_ids
            trigger = triggers[trigger_id]
            payload = self.payloads.get(trigger_id)
            if payload is None:
                return []
            return [(self._topic(trigger.home, trigger.device), payload)] * fault.count
        if fault.kind is FaultKind.FLOOD:
            topic = self._topic(home, FLOOD_DEVICE)
            return [
                (topic, self._noise(home, FLOOD_DEVICE, EventType.MOTION))
                for _ in range(fault.count)
            ]
        return []

"""Simulated homes: the devices a typical flat has, per-device sequence numbers, and the
encoding of what a device reports into the exact bytes it would publish."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eldercare.models import DeviceState, DeviceStatus, Event, EventType, Telemetry
from eldercare.topics import Channel, Topics
from gateway.registry import DeviceSpec
from simulator.layout import STANDARD_DEVICES
from simulator.sensors import Reading

#: Homes in the simulator live in China (no daylight saving), and devices stamp local time.
CHINA = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class Emission:
    """One MQTT publish: when it is delivered (POSIX s), where, and the raw bytes."""

    at: float
    topic: str
    payload: bytes
    home: str
    device: str
    kind: str  # "motion", "accel", "status"… for statistics and fault targeting
    qos: int = 1
    retain: bool = False


@dataclass
class SimulatedHome:
    home_id: str
    devices: tuple[DeviceSpec, ...] = STANDARD_DEVICES
    topics: Topics = field(default_factory=Topics)
    tz: timezone = CHINA
    clock_skew_s: dict[str, float] = field(default_factory=dict)  # devices with a wrong clock
    seq_base: int = 1  # first seq of every device (see Simulator: restarts must not collide)
    _seq: dict[str, itertools.count[int]] = field(default_factory=dict, repr=False)
    _topic_cache: dict[tuple[str, Channel], str] = field(default_factory=dict, repr=False)

    def next_seq(self, device: str) -> int:
        return next(self._seq.setdefault(device, itertools.count(self.seq_base)))

    def event(self, device: str, kind: EventType, at: datetime, **value: Any) -> Event:
        return Event(
            home=self.home_id,
            device=device,
            seq=self.next_seq(device),
            ts=at,
            type=kind,
            value=value,
        )

    def topic(self, device: str, channel: Channel) -> str:
        key = (device, channel)
        topic = self._topic_cache.get(key)
        if topic is None:
            topic = self._topic_cache[key] = self.topics.device(self.home_id, device, channel)
        return topic

    def encode(self, reading: Reading) -> Emission:
        """Stamp a reading with the device's next seq and its local time, as bytes."""
        device = reading.device
        ts = datetime.fromtimestamp(reading.at + self.clock_skew_s.get(device, 0.0), self.tz)
        if reading.event is not None:
            message: Event | Telemetry = Event(
                home=self.home_id,
                device=device,
                seq=self.next_seq(device),
                ts=ts,
                type=reading.event,
                value=reading.value or {},
            )
            return Emission(
                reading.at,
                self.topic(device, Channel.EVENT),
                message.to_json(),
                self.home_id,
                device,
                reading.event.value,
            )
        assert reading.metric is not None
        message = Telemetry(
            home=self.home_id,
            device=device,
            seq=self.next_seq(device),
            ts=ts,
            metric=reading.metric,
            value=reading.number,
            rate_hz=reading.rate_hz,
            samples=reading.samples,
        )
        return Emission(
            reading.at,
            self.topic(device, Channel.TELEMETRY),
            message.to_json(),
            self.home_id,
            device,
            reading.metric.value,
            qos=0 if reading.samples else 1,
        )

    def status(self, device: str, state: DeviceState, at: float, *, will: bool = False) -> Emission:
        """Presence, retained. A last will carries no time: the broker sends it, not the device."""
        message = DeviceStatus(
            home=self.home_id,
            device=device,
            state=state,
            ts=None if will else datetime.fromtimestamp(at, UTC),
        )
        return Emission(
            at,
            self.topic(device, Channel.STATUS),
            message.to_json(),
            self.home_id,
            device,
            "status",
            retain=True,
        )


def make_homes(count: int, first: int = 1, topics: Topics | None = None) -> list[SimulatedHome]:
    """Homes ``h-0001``…; ids are stable so the same run always names the same homes."""
    return [
        SimulatedHome(f"h-{number:04d}", topics=topics or Topics())
        for number in range(first, first + count)
    ]

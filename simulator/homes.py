"""Simulated homes: the devices a typical flat has, with per-device sequence numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eldercare.models import Event, EventType
from gateway.registry import DeviceSpec

STANDARD_DEVICES = (
    DeviceSpec("btn-hall", "call_button", "hall"),
    DeviceSpec("pendant", "pendant", None),
    DeviceSpec("pir-living", "motion", "living_room"),
    DeviceSpec("door-front", "door", "hall"),
)


@dataclass
class SimulatedHome:
    home_id: str
    devices: tuple[DeviceSpec, ...] = STANDARD_DEVICES
    _seq: dict[str, itertools.count[int]] = field(default_factory=dict, repr=False)

    def next_seq(self, device: str) -> int:
        return next(self._seq.setdefault(device, itertools.count(1)))

    def event(self, device: str, kind: EventType, at: datetime, **value: Any) -> Event:
        return Event(
            home=self.home_id,
            device=device,
            seq=self.next_seq(device),
            ts=at,
            type=kind,
            value=value,
        )


def make_homes(count: int, first: int = 1) -> list[SimulatedHome]:
    """Homes ``h-0001``…; ids are stable so the same run always names the same homes."""
    return [SimulatedHome(f"h-{number:04d}") for number in range(first, first + count)]

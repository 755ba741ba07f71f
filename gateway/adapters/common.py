"""What every adapter returns, and the little memory it keeps per device between messages.

Adapters are pure: ``(device, payload, memory, now) -> Adapted``. The gateway holds the
memory and passes it back in, so the same function runs in the service, in the benchmark
and under hypothesis without a broker or a clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from eldercare.models import DeviceStatus, Event, EventType, Metric, Telemetry
from gateway.motion import MotionState

ContractMessage = Event | Telemetry | DeviceStatus


@dataclass(frozen=True, slots=True)
class DeviceMemory:
    """Per device: last sequence number issued, last value of each state field, motion."""

    seq: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    motion: MotionState | None = None


@dataclass(frozen=True, slots=True)
class Adapted:
    """Contract messages made from one payload, and reasons to quarantine (parts of) it."""

    messages: tuple[ContractMessage, ...] = ()
    problems: tuple[str, ...] = ()
    memory: DeviceMemory = field(default_factory=DeviceMemory)


class MessageBuilder:
    """Stamps adapted messages with home, device and a per-device ``seq`` that never repeats.

    Devices that do not number their messages get ``seq`` = event time in microseconds
    (strictly increasing per device), so numbers stay unique across gateway restarts and the
    detector's duplicate check cannot drop a real event.
    """

    def __init__(self, home: str, device: str, memory: DeviceMemory) -> None:
        self.home, self.device = home, device
        self.seq = memory.seq
        self.messages: list[ContractMessage] = []
        self.problems: list[str] = []

    def _next_seq(self, at: datetime) -> int:
        self.seq = max(self.seq + 1, int(at.timestamp() * 1_000_000))
        return self.seq

    def event(self, kind: EventType, at: datetime, value: dict[str, Any] | None = None) -> None:
        self._add(
            Event,
            seq=self._next_seq(at),
            ts=at,
            type=kind,
            value=value or {},
        )

    def telemetry(self, metric: Metric, at: datetime, value: Any) -> None:
        self._add(Telemetry, seq=self._next_seq(at), ts=at, metric=metric, value=value)

    def _add(self, model: type[Event] | type[Telemetry], **fields: Any) -> None:
        try:
            self.messages.append(model(home=self.home, device=self.device, **fields))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "payload"
            self.problems.append(f"schema: {where}: {first['msg']}")

    def reject(self, problem: str) -> None:
        self.problems.append(problem)

    def done(self, values: dict[str, Any], motion: MotionState | None) -> Adapted:
        memory = DeviceMemory(self.seq, values, motion)
        return Adapted(tuple(self.messages), tuple(self.problems), memory)


def json_object(payload: bytes, builder: MessageBuilder, source: str) -> dict[str, Any] | None:
    """The payload as a JSON object, or None after recording why it is not one."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as error:
        builder.reject(f"schema: {source} is not JSON: {str(error)[:80]}")
        return None
    if not isinstance(data, dict):
        builder.reject(f"schema: {source} must be a JSON object")
        return None
    return data

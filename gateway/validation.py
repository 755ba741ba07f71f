"""Turn one raw MQTT message into a checked contract message, or a reason to quarantine it.

Pure functions: no broker, no database, no clock of their own, so every rule can be fuzzed.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from eldercare.models import DeviceStatus, Event, Telemetry
from eldercare.topics import Channel, TopicError, Topics

#: Device clocks drift and buffer offline; anything outside this window is a broken clock.
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)
#: How many recent sequence numbers per device are remembered to drop redeliveries.
SEQ_MEMORY = 256

ContractMessage = Event | Telemetry | DeviceStatus
_MODELS: dict[Channel, type[ContractMessage]] = {
    Channel.EVENT: Event,
    Channel.TELEMETRY: Telemetry,
    Channel.STATUS: DeviceStatus,
}


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    home: str | None = None
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Duplicate:
    home: str
    device: str
    seq: int


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"schema: {where}: {first['msg']}{more}"


def validate(
    topics: Topics,
    topic: str,
    payload: bytes,
    *,
    now: datetime,
    max_bytes: int,
    known: frozenset[tuple[str, str]] | None,
) -> ContractMessage | Rejected:
    """Check topic, size, JSON, schema, topic/payload agreement, registry and timestamp."""
    try:
        parsed = topics.parse_device(topic)
    except TopicError as error:
        return Rejected(f"topic: {error}")
    home, device = parsed.home, parsed.device
    if parsed.channel not in _MODELS:
        return Rejected(f"topic: devices may not publish on {parsed.channel}", home, device)
    if len(payload) > max_bytes:
        return Rejected(f"size: {len(payload)} bytes > limit {max_bytes}", home, device)
    try:
        message = _MODELS[parsed.channel].model_validate_json(payload)
    except ValidationError as error:
        return Rejected(_describe(error), home, device)
    if (message.home, message.device) != (home, device):
        return Rejected(
            f"mismatch: payload says {message.home}/{message.device}, topic says {home}/{device}",
            home,
            device,
        )
    if known is not None and (home, device) not in known:
        return Rejected("unknown device: not in the registry", home, device)
    if message.ts is not None:
        if message.ts > now + MAX_FUTURE:
            return Rejected(f"timestamp: {message.ts.isoformat()} is in the future", home, device)
        if message.ts < now - MAX_PAST:
            return Rejected(f"timestamp: {message.ts.isoformat()} is too old", home, device)
    return message


class SeqWindow:
    """Remembers recent (device, seq) pairs so QoS 1 redeliveries are processed once."""

    def __init__(self, per_device: int = SEQ_MEMORY, max_devices: int = 200_000) -> None:
        self._per_device = per_device
        self._max_devices = max_devices
        self._seen: OrderedDict[tuple[str, str], tuple[set[int], deque[int]]] = OrderedDict()

    def first_time(self, home: str, device: str, seq: int) -> bool:
        key = (home, device)
        entry = self._seen.get(key)
        if entry is None:
            entry = (set(), deque())
            self._seen[key] = entry
            if len(self._seen) > self._max_devices:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        members, order = entry
        if seq in members:
            return False
        members.add(seq)
        order.append(seq)
        if len(order) > self._per_device:
            members.discard(order.popleft())
        return True

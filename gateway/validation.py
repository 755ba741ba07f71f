"""Turn one raw MQTT message into a checked contract message, or a reason to quarantine it.

Pure functions: no broker, no database, no clock of their own, so every rule can be fuzzed.
Two stages: ``parse_native`` reads our own contract off a device topic (topic, size, schema,
topic/payload agreement); ``check_message`` applies the rules every adapter's output must
also pass (plausible ranges, timestamps neither in the future nor stale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from eldercare.models import DeviceStatus, Event, Metric, Telemetry
from eldercare.topics import Channel, TopicError, Topics

#: Device clocks drift and buffer offline; anything outside this window is a broken clock.
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)
#: Physically possible readings (sensor operating ranges, with a margin). Outside them the
#: sensor is broken or the payload is garbage; either way a detector must not act on it.
RANGES: dict[Metric, tuple[float, float]] = {
    Metric.TEMPERATURE: (-40.0, 125.0),
    Metric.HUMIDITY: (0.0, 100.0),
    Metric.BATTERY: (0.0, 100.0),
    Metric.HEART_RATE: (20.0, 250.0),
    Metric.RSSI: (-130.0, 0.0),
    Metric.LINK_QUALITY: (0.0, 255.0),
}
#: Pendant accelerometers saturate at ±16 g; beyond ±64 g a sample is not a measurement.
ACCEL_LIMIT_G = 64.0

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


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"schema: {where}: {first['msg']}{more}"


def check_size(payload: bytes, max_bytes: int) -> str | None:
    if len(payload) > max_bytes:
        return f"size: {len(payload)} bytes > limit {max_bytes}"
    return None


def parse_native(
    topics: Topics, topic: str, payload: bytes, *, max_bytes: int
) -> ContractMessage | Rejected:
    """A contract message published by a device on its own topic."""
    try:
        parsed = topics.parse_device(topic)
    except TopicError as error:
        return Rejected(f"topic: {error}")
    home, device = parsed.home, parsed.device
    if parsed.channel not in _MODELS:
        return Rejected(f"topic: devices may not publish on {parsed.channel}", home, device)
    if too_big := check_size(payload, max_bytes):
        return Rejected(too_big, home, device)
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
    return message


def check_message(message: ContractMessage, now: datetime) -> str | None:
    """The rules every message obeys, whichever adapter made it: None if it may pass."""
    if message.ts is not None:
        if message.ts > now + MAX_FUTURE:
            return f"timestamp: {message.ts.isoformat()} is in the future"
        if message.ts < now - MAX_PAST:
            return f"timestamp: {message.ts.isoformat()} is too old"
    if isinstance(message, Telemetry):
        return _check_range(message)
    return None


def _check_range(telemetry: Telemetry) -> str | None:
    if telemetry.metric is Metric.ACCEL:
        for sample in telemetry.samples or ():
            if not all(math.isfinite(axis) and abs(axis) <= ACCEL_LIMIT_G for axis in sample):
                return f"range: accel sample {sample} beyond ±{ACCEL_LIMIT_G:g} g"
        return None
    bounds = RANGES.get(telemetry.metric)
    value = telemetry.value
    if bounds is not None and value is not None and not bounds[0] <= value <= bounds[1]:
        return f"range: {telemetry.metric} {value:g} outside {bounds[0]:g}..{bounds[1]:g}"
    return None

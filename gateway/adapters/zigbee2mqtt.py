"""zigbee2mqtt → contract: ``zigbee2mqtt/<friendly_name>`` state JSON and ``…/availability``.

zigbee2mqtt publishes a device's whole state on every report (a battery report repeats
``"contact": true``), so binary properties become events only when they change, or on first
sight when they are in their alarming state (a smoke alarm already sounding when the
gateway starts must still be heard). Each property is described once, declaratively, in the
tables below (field names as in zigbee2mqtt's device "exposes").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from eldercare.models import DeviceState, DeviceStatus, EventTime, EventType, Metric
from gateway.adapters.common import (
    Adapted,
    DeviceMemory,
    MessageBuilder,
    json_object,
)
from gateway.motion import occupancy_changed
from gateway.profiles import profile_for
from gateway.registry import DeviceInfo

EventValue = dict[str, str | int | float | bool | None]


@dataclass(frozen=True, slots=True)
class BinaryExpose:
    """A true/false property: an event on each change; on first sight only if ``active``."""

    key: str
    #: The value that means something is happening (a door sensor's contact is False then).
    active: bool
    on_active: tuple[EventType, EventValue]
    on_idle: tuple[EventType, EventValue] | None

    def events(self, previous: Any, current: bool) -> list[tuple[EventType, EventValue]]:
        if previous == current or (previous is None and current != self.active):
            return []
        if current == self.active:
            return [self.on_active]
        return [self.on_idle] if self.on_idle else []


@dataclass(frozen=True, slots=True)
class NumericExpose:
    key: str
    metric: Metric


BINARY_EXPOSES = (
    BinaryExpose("contact", False, (EventType.DOOR_OPEN, {}), (EventType.DOOR_CLOSE, {})),
    # Hazards clear with the same event type and alarm=false, so detectors can resolve.
    BinaryExpose(
        "smoke", True, (EventType.SMOKE, {"alarm": True}), (EventType.SMOKE, {"alarm": False})
    ),
    BinaryExpose("gas", True, (EventType.GAS, {"alarm": True}), (EventType.GAS, {"alarm": False})),
    BinaryExpose(
        "water_leak",
        True,
        (EventType.WATER_LEAK, {"alarm": True}),
        (EventType.WATER_LEAK, {"alarm": False}),
    ),
)

NUMERIC_EXPOSES = (
    NumericExpose("temperature", Metric.TEMPERATURE),
    NumericExpose("humidity", Metric.HUMIDITY),
    NumericExpose("battery", Metric.BATTERY),
    NumericExpose("linkquality", Metric.LINK_QUALITY),
)

#: zigbee2mqtt ``action`` values of buttons → our press kinds. "release" ends a hold and
#: "" is the legacy reset of the action property: neither is a press.
ACTION_PRESSES = {
    "single": "single",
    "double": "double",
    "triple": "triple",
    "quadruple": "quadruple",
    "many": "many",
    "hold": "long",
    "long": "long",
    "emergency": "single",
    "sos": "single",
}
NOT_A_PRESS = frozenset({"", "release"})


@dataclass(frozen=True, slots=True)
class ZigbeeTopic:
    name: str
    availability: bool


#: A home's zigbee2mqtt run on its own base topic (``zigbee2mqtt/<home>``) publishes its
#: retained state and last will on ``…/<home>/bridge/state``; registered as the device named
#: ``<home>/bridge`` (kind ``hub``), its last will takes the home offline at once, where its
#: devices' own deadlines would take hours. Its other ``bridge/…`` topics are not ours.
BRIDGE = "bridge"
_BRIDGE_STATE = f"/{BRIDGE}/state"


def parse_topic(base: str, topic: str) -> ZigbeeTopic | None:
    """The friendly name a topic is about; None for the bridge's and our own command topics."""
    rest = topic.removeprefix(base + "/")
    if rest in (topic, BRIDGE) or not rest or rest.startswith(f"{BRIDGE}/"):
        return None
    if rest.endswith(_BRIDGE_STATE):
        return ZigbeeTopic(rest.removesuffix("/state"), True)
    if f"/{BRIDGE}/" in rest:
        return None
    if rest.endswith("/availability"):
        return ZigbeeTopic(rest.removesuffix("/availability"), True)
    if rest.endswith(("/set", "/get")) or "/set/" in rest or "/get/" in rest:
        return None
    return ZigbeeTopic(rest, False)


_TIME: TypeAdapter[datetime] = TypeAdapter(EventTime)


def event_time(raw: Any, now: datetime) -> tuple[datetime, str | None]:
    """zigbee2mqtt's optional ``last_seen`` (ISO 8601 or epoch ms) is when the device spoke;
    without it, the gateway's receive time is the best we have."""
    if raw is None:
        return now, None
    try:
        return _TIME.validate_python(raw), None
    except ValidationError:
        return now, f"timestamp: last_seen {str(raw)[:40]!r} is not a time"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def adapt_state(device: DeviceInfo, payload: bytes, memory: DeviceMemory, now: datetime) -> Adapted:
    """One ``zigbee2mqtt/<friendly_name>`` message → events and telemetry for ``device``."""
    builder = MessageBuilder(device.home, device.id, memory)
    state = json_object(payload, builder, "zigbee2mqtt payload")
    if state is None:
        return builder.done(memory.values, memory.motion)
    at, problem = event_time(state.get("last_seen"), now)
    if problem:
        builder.reject(problem)
    profile = profile_for(device.model)
    values = dict(memory.values)
    motion = memory.motion

    occupancy = state.get("occupancy")
    if occupancy is not None:
        if isinstance(occupancy, bool):
            events, motion = occupancy_changed(profile, motion, occupancy, at)
            for event in events:
                builder.event(event.type, event.ts, event.value)
        else:
            builder.reject("schema: occupancy must be true or false")

    for expose in BINARY_EXPOSES:
        current = state.get(expose.key)
        if current is None:
            continue
        if not isinstance(current, bool):
            builder.reject(f"schema: {expose.key} must be true or false")
            continue
        for kind, value in expose.events(values.get(expose.key), current):
            builder.event(kind, at, value)
        values[expose.key] = current

    _press(device, state.get("action"), at, builder)

    for numeric in NUMERIC_EXPOSES:
        number = state.get(numeric.key)
        if number is None:
            continue
        if _number(number):
            builder.telemetry(numeric.metric, at, number)
        else:
            builder.reject(f"schema: {numeric.key} must be a number")
    return builder.done(values, motion)


def adapt_press(device: DeviceInfo, payload: bytes, memory: DeviceMemory, now: datetime) -> Adapted:
    """Only the button press of a ``zigbee2mqtt/<friendly_name>`` report, for the gateway's
    life-safety lane. A press depends on nothing remembered, so the lane may take it ahead of
    the report's other fields, which the main session adapts in order with the rest of the
    device's reports; anything wrong with the report is the main session's to quarantine."""
    builder = MessageBuilder(device.home, device.id, memory)
    state = json_object(payload, builder, "zigbee2mqtt payload")
    if state is not None:
        at, problem = event_time(state.get("last_seen"), now)
        if problem is None:
            _press(device, state.get("action"), at, builder)
    return builder.done(memory.values, memory.motion)


def _press(device: DeviceInfo, action: Any, at: datetime, builder: MessageBuilder) -> None:
    if action is None:
        return
    press = ACTION_PRESSES.get(action) if isinstance(action, str) else None
    if press is not None:
        fixed = profile_for(device.model).button_event
        builder.event(_button_event(device, fixed), at, {"press": press})
    elif not (isinstance(action, str) and action in NOT_A_PRESS):
        builder.reject(f"schema: action {str(action)[:40]!r} is not a known button press")


def _button_event(device: DeviceInfo, fixed: EventType | None) -> EventType:
    """A press raises a call unless the registry says this button cancels: when unsure,
    a false call is cheaper than a lost one."""
    if fixed is not None:
        return fixed
    return EventType.CANCEL_BUTTON if device.kind == "cancel_button" else EventType.CALL_BUTTON


def bridge_names(name: str) -> Iterator[str]:
    """Where the bridge of the device named ``name`` would be registered, nearest first: a
    friendly name may itself hold '/' (``h-0001/kitchen/lamp``)."""
    while "/" in name:
        name = name.rsplit("/", 1)[0]
        yield f"{name}/{BRIDGE}"


def adapt_availability(device: DeviceInfo, payload: bytes, now: datetime) -> Adapted:
    """``…/availability``: ``{"state": "online"}`` (zigbee2mqtt ≥ 1.28) or plain ``online``."""
    text = payload.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    if isinstance(parsed, dict):
        parsed = parsed.get("state")
    if parsed not in ("online", "offline"):
        return Adapted(problems=(f"schema: availability {text[:40]!r} is not online/offline",))
    status = DeviceStatus(
        home=device.home,
        device=device.id,
        state=DeviceState(parsed),
        ts=now,
        reason=f"availability: zigbee2mqtt reports {parsed}",
    )
    return Adapted(messages=(status,))

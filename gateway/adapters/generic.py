"""Any JSON device → contract, by a per-model mapping written in YAML (no code per vendor).

A device whose registry ``model`` has a mapping may publish its own JSON on its
``{prefix}/{home}/{device}/{event|telemetry|status}`` topics; the mapping says which field
is an event, a measurement, occupancy or the timestamp::

    models:
      acme-pir-2:
        timestamp: {field: t, unit: s}
        occupancy: {field: pir, occupied: 1}
        events:
          - {field: door, equals: open, type: door_open}
          - {field: door, equals: closed, type: door_close}
          - {field: key, equals: sos, type: call_button, value: {press: single}, on_change: false}
        telemetry:
          - {field: env.t10, metric: temperature, scale: 0.1}
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from eldercare.models import EventType, Metric
from gateway.adapters.common import Adapted, DeviceMemory, MessageBuilder, json_object
from gateway.adapters.zigbee2mqtt import event_time
from gateway.motion import occupancy_changed
from gateway.profiles import profile_for
from gateway.registry import DeviceInfo

Scalar = str | int | float | bool


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimestampField(_Config):
    field: str
    unit: Literal["iso", "s", "ms"] = "iso"


class OccupancyField(_Config):
    field: str
    occupied: Scalar = Field(True, description="the value that means occupied")


class EventField(_Config):
    field: str
    equals: Scalar
    type: EventType
    value: dict[str, Scalar] = Field(default_factory=dict)
    on_change: bool = Field(
        True, description="only when the field changes to this value (state fields repeat)"
    )


class MetricField(_Config):
    field: str
    metric: Metric
    scale: float = 1.0
    offset: float = 0.0


class ModelMapping(_Config):
    timestamp: TimestampField | None = None
    occupancy: OccupancyField | None = None
    events: list[EventField] = Field(default_factory=list)
    telemetry: list[MetricField] = Field(default_factory=list)

    def momentary(self, kinds: frozenset[EventType]) -> bool:
        """Whether some event of ``kinds`` comes from a single report (``on_change: false``:
        a press), which ``adapt_momentary`` can read without the device's history."""
        return any(not spec.on_change and spec.type in kinds for spec in self.events)


class DeviceMappings(_Config):
    models: dict[str, ModelMapping] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DeviceMappings:
        return cls.model_validate(yaml.safe_load(path.read_text()) or {})


_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    """``a.b.c`` into nested objects; missing anywhere → _MISSING."""
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _timestamp(
    spec: TimestampField | None, data: dict[str, Any], now: datetime
) -> tuple[datetime, str | None]:
    if spec is None:
        return now, None
    raw = _lookup(data, spec.field)
    if raw is _MISSING:
        return now, None
    if spec.unit == "s" and isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = raw * 1000
    if spec.unit == "iso" and not isinstance(raw, str):
        return now, f"timestamp: {spec.field} must be an ISO 8601 string"
    return event_time(raw, now)


def adapt_generic(
    mapping: ModelMapping, device: DeviceInfo, payload: bytes, memory: DeviceMemory, now: datetime
) -> Adapted:
    builder = MessageBuilder(device.home, device.id, memory)
    data = json_object(payload, builder, "payload")
    if data is None:
        return builder.done(memory.values, memory.motion)
    at, problem = _timestamp(mapping.timestamp, data, now)
    if problem:
        builder.reject(problem)
    values, motion = dict(memory.values), memory.motion

    if mapping.occupancy is not None:
        raw = _lookup(data, mapping.occupancy.field)
        if raw is not _MISSING:
            occupied = raw == mapping.occupancy.occupied
            events, motion = occupancy_changed(profile_for(device.model), motion, occupied, at)
            for event in events:
                builder.event(event.type, event.ts, event.value)

    for spec in mapping.events:
        raw = _lookup(data, spec.field)
        if raw is _MISSING:
            continue
        changed = values.get(spec.field, _MISSING) != raw
        if raw == spec.equals and (changed or not spec.on_change):
            builder.event(spec.type, at, dict(spec.value))
    for spec in mapping.events:
        raw = _lookup(data, spec.field)
        if raw is not _MISSING and isinstance(raw, Scalar):
            values[spec.field] = raw

    for metric in mapping.telemetry:
        raw = _lookup(data, metric.field)
        if raw is _MISSING:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            builder.reject(f"schema: {metric.field} must be a number")
            continue
        builder.telemetry(metric.metric, at, raw * metric.scale + metric.offset)
    return builder.done(values, motion)


def adapt_momentary(
    mapping: ModelMapping, device: DeviceInfo, payload: bytes, memory: DeviceMemory, now: datetime
) -> Adapted:
    """Only the ``on_change: false`` events of a report (a button's press), for the gateway's
    life-safety lane: they depend on nothing remembered, so the lane may take them ahead of
    the report's other fields, which the main session adapts in order; anything wrong with
    the report is the main session's to quarantine."""
    builder = MessageBuilder(device.home, device.id, memory)
    data = json_object(payload, builder, "payload")
    if data is not None:
        at, problem = _timestamp(mapping.timestamp, data, now)
        for spec in mapping.events:
            if problem is None and not spec.on_change and _lookup(data, spec.field) == spec.equals:
                builder.event(spec.type, at, dict(spec.value))
    return builder.done(memory.values, memory.motion)

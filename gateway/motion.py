"""Occupancy in, motion events out, so "time since last motion" means one thing.

Motion sensors report *occupancy*: true at a detection, false some model-specific time
after the last one (Aqara clears after ~90 s, IKEA after 180 s, a Hue after its own timeout
that it extends silently). Treating "occupied" as "moving" would make the same quiet
resident look 90 s or 3 min more active depending on the sensor. So occupancy is turned
into MOTION events stamped at detection times (the clear of a silently-retriggering sensor
implies one more, ``hold_s`` before the clear) and a NO_MOTION event carrying when motion
was last seen. Consumers then compute ``now - last MOTION.ts``, whatever the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eldercare.models import EventType
from gateway.profiles import ModelProfile

#: A repeated "occupied" report sooner than this after the last MOTION adds nothing.
RENEW_S = 30.0


@dataclass(frozen=True, slots=True)
class MotionState:
    occupied: bool
    last_motion: datetime | None


@dataclass(frozen=True, slots=True)
class MotionEvent:
    type: EventType
    ts: datetime
    value: dict[str, str | int | float | bool | None]


def occupancy_changed(
    profile: ModelProfile, state: MotionState | None, occupied: bool, at: datetime
) -> tuple[list[MotionEvent], MotionState]:
    """One occupancy report at ``at``; returns the motion events it means and the new state."""
    last = state.last_motion if state else None
    if occupied:
        renewed = last is not None and (at - last).total_seconds() < RENEW_S
        if state is not None and state.occupied and renewed:
            return [], state
        event = MotionEvent(EventType.MOTION, at, {"source": "occupancy"})
        return [event], MotionState(True, at)
    if state is None or not state.occupied:
        return [], MotionState(False, last)
    events: list[MotionEvent] = []
    if profile.silent_retrigger:
        inferred = at - timedelta(seconds=profile.motion_hold_s)
        if last is None or inferred > last:
            events.append(MotionEvent(EventType.MOTION, inferred, {"source": "inferred"}))
            last = inferred
    value: dict[str, str | int | float | bool | None] = {"hold_s": profile.motion_hold_s}
    if last is not None:
        value["last_motion"] = last.isoformat()
    events.append(MotionEvent(EventType.NO_MOTION, at, value))
    return events, MotionState(False, last)

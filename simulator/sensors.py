"""From what the resident does to what the devices report.

Each device behaves like its real counterpart: a PIR fires when someone moves in its
view and is then blind for a while (so a busy kitchen gives about one event a minute, not
one per movement); door contacts report open and close; the bed mat reports occupied and
empty; the pendant only sends an accelerometer window when it feels a movement worth
reporting (a walk, sitting or lying down, an impact), never a continuous stream.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from eldercare.models import EventType, Metric
from simulator import accel
from simulator.layout import (
    BATHROOM_DOOR,
    BED,
    FRONT_DOOR,
    PENDANT,
    PIR,
    TOILET,
    PirModel,
    Room,
)
from simulator.profiles import Mobility
from simulator.routine import Act, Segment, Visit, traits

#: Accelerometer windows: a walk is recorded for this long, a fall with its aftermath longer.
WALK_WINDOW_S = 4.0
POSTURE_WINDOW_S = 4.0
FALL_WINDOW_S = 12.0
FALL_PRE_S = 2.0
PENDANT_QUIET_S = 20.0  # the pendant does not send two windows closer than this


@dataclass(frozen=True, slots=True)
class Reading:
    """One thing a device will publish, before it gets its sequence number."""

    at: float
    device: str
    event: EventType | None = None
    value: dict[str, str | int | float | bool | None] | None = None
    metric: Metric | None = None
    number: float | None = None
    samples: list[list[float]] | None = None
    rate_hz: float | None = None
    forced: bool = False  # a scenario's door event that the held-open rule must not hide


@dataclass
class SensorState:
    """What devices remember between stretches of the day."""

    pir_last: dict[str, float] = field(default_factory=dict)
    bathroom_door_closed: bool = False
    in_bed: bool = True
    pendant_last: float = -math.inf
    posture: str = "lying"


class SensorRenderer:
    def __init__(
        self,
        mobility: Mobility,
        rng: random.Random,
        accel_rng: np.random.Generator,
        accel_rate_hz: float,
        pir: PirModel | None = None,
    ) -> None:
        self.mobility = mobility
        self.rng = rng
        self.accel_rng = accel_rng
        self.rate_hz = accel_rate_hz
        self.pir = pir or PirModel()
        self.rotation = accel.wearing_rotation(accel_rng)
        self.state = SensorState()

    # --- motion ---------------------------------------------------------------------------
    def _motion_times(self, segment: Segment) -> list[float]:
        times = [segment.start + self.rng.uniform(0.3, 2.0)]
        rate = traits(segment.act, self.mobility.fidget_per_hour).motion_per_hour / 3600.0
        if rate > 0:
            at = segment.start + self.rng.expovariate(rate)
            while at < segment.end:
                times.append(at)
                at += self.rng.expovariate(rate)
        return [at for at in times if at < segment.end]

    def _visitor_motion(self, visit: Visit) -> dict[Room, list[float]]:
        """A visitor comes in through the hall, spends the visit in their rooms, leaves."""
        per_room: dict[Room, list[float]] = {Room.HALL: [visit.start + 3, visit.end - 10]}
        share = (visit.end - visit.start - 60) / max(1, len(visit.rooms))
        cursor = visit.start + 30
        for room in visit.rooms:
            per_room.setdefault(room, []).extend(
                self._motion_times(Segment(cursor, cursor + share, room, Act.CHORES))
            )
            cursor += share
        return per_room

    def _pir(self, motions: dict[Room, list[float]]) -> list[Reading]:
        readings = []
        for room, times in motions.items():
            device = PIR[room]
            last = self.state.pir_last.get(device, -math.inf)
            for at in sorted(times):
                if at >= last + self.pir.blind_s:
                    readings.append(Reading(at, device, EventType.MOTION))
                    last = at
            self.state.pir_last[device] = last
        return readings

    # --- everything ----------------------------------------------------------------------
    def render(self, segments: list[Segment], visits: list[Visit]) -> list[Reading]:
        readings: list[Reading] = []
        motions: dict[Room, list[float]] = {}
        for segment in segments:
            if segment.room is not None and segment.act is not Act.FALLEN:
                motions.setdefault(segment.room, []).extend(self._motion_times(segment))
            elif segment.act is Act.FALLEN:
                # the fall itself is the last movement the room sensor can see
                motions.setdefault(segment.room, []).append(segment.start + 0.5)  # type: ignore[arg-type]
            readings.extend(self._doors(segment))
            readings.extend(self._bed(segment))
            if segment.act is Act.TOILET and segment.duration > 60 and self.rng.random() < 0.9:
                readings.append(Reading(segment.end - 15, TOILET, EventType.TOILET_FLUSH))
            readings.extend(self._pendant(segment))
        for visit in visits:
            for room, times in self._visitor_motion(visit).items():
                motions.setdefault(room, []).extend(times)
            readings.append(Reading(visit.start, FRONT_DOOR, EventType.DOOR_OPEN))
            readings.append(Reading(visit.start + 6, FRONT_DOOR, EventType.DOOR_CLOSE))
            readings.append(Reading(visit.end - 5, FRONT_DOOR, EventType.DOOR_OPEN))
            readings.append(Reading(visit.end, FRONT_DOOR, EventType.DOOR_CLOSE))
        readings.extend(self._pir(motions))
        return readings

    def _doors(self, segment: Segment) -> list[Reading]:
        readings = []
        closes = traits(segment.act, 0).bathroom_door_closed
        if segment.act in {Act.FALLEN, Act.RECOVER}:
            closes = self.state.bathroom_door_closed  # nobody touches the door
        closed_here = closes and segment.room is Room.BATHROOM
        if self.state.bathroom_door_closed and not closed_here:
            readings.append(Reading(segment.start - 2, BATHROOM_DOOR, EventType.DOOR_OPEN))
        elif closed_here and not self.state.bathroom_door_closed:
            readings.append(Reading(segment.start + 3, BATHROOM_DOOR, EventType.DOOR_CLOSE))
        self.state.bathroom_door_closed = closed_here
        if segment.act is Act.LEAVE:
            readings.append(Reading(segment.end - 4, FRONT_DOOR, EventType.DOOR_OPEN))
            readings.append(Reading(segment.end + 3, FRONT_DOOR, EventType.DOOR_CLOSE))
        elif segment.act is Act.ARRIVE:
            readings.append(Reading(segment.start - 2, FRONT_DOOR, EventType.DOOR_OPEN))
            readings.append(Reading(segment.start + 4, FRONT_DOOR, EventType.DOOR_CLOSE))
        return readings

    def _bed(self, segment: Segment) -> list[Reading]:
        in_bed = traits(segment.act, 0).in_bed
        if in_bed == self.state.in_bed:
            return []
        self.state.in_bed = in_bed
        if in_bed:
            return [Reading(segment.start + 5, BED, EventType.BED_OCCUPIED)]
        return [Reading(segment.start - 3, BED, EventType.BED_EMPTY)]

    # --- pendant -------------------------------------------------------------------------
    def _pendant(self, segment: Segment) -> list[Reading]:
        posture = traits(segment.act, 0).posture
        previous, self.state.posture = self.state.posture, posture
        if not segment.pendant or segment.room is None:
            return []
        rate, rng = self.rate_hz, self.accel_rng
        if segment.act is Act.FALLEN:
            n, impact = int(FALL_WINDOW_S * rate), int(FALL_PRE_S * rate)
            samples = accel.fall(n, rate, rng.uniform(2.5, 6.0), impact, rng)
            return [self._window(segment.start - FALL_PRE_S, samples)]
        getting_up = segment.act is Act.RECOVER  # after an impact the pendant stays alert
        if segment.start - self.state.pendant_last < PENDANT_QUIET_S and not getting_up:
            return []  # the pendant just sent a window; it does not send another so soon
        if segment.act in {Act.WALK, Act.LEAVE, Act.ARRIVE}:
            n = int(min(WALK_WINDOW_S, max(1.0, segment.duration)) * rate)
            mobility = self.mobility
            samples = accel.walking(n, rate, mobility.step_hz, mobility.step_g, rng)
            return [self._window(segment.start, samples)]
        if posture != previous:
            ends = {"standing": accel.UPRIGHT, "lying": accel.LYING, "sitting": _SITTING}
            peak = 1.2 + 0.3 * rng.random() if posture != "standing" else 1.15
            n = int(POSTURE_WINDOW_S * rate)
            samples = accel.posture_change(n, rate, ends[previous], ends[posture], peak)
            return [self._window(segment.start, samples)]
        return []

    def _window(self, at: float, samples: np.ndarray) -> Reading:
        self.state.pendant_last = at
        return Reading(
            at,
            PENDANT,
            metric=Metric.ACCEL,
            samples=accel.finish(samples, self.rotation, self.accel_rng),
            rate_hz=self.rate_hz,
        )


_SITTING = np.array([0.35, 0.0, 0.94])

"""One home's life as a lazy stream: routine → sensors → device messages, day by day.

Besides what the resident does, devices report on their own: heartbeats, the climate
sensor every quarter hour, battery levels that drain. Everything is drawn from generators
seeded by (run seed, home id), so a home's stream does not depend on which other homes
are simulated alongside it.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from eldercare.models import DeviceState, EventType, Metric
from simulator.homes import Emission, SimulatedHome
from simulator.layout import BATTERY_DRAIN, CLIMATE, FRONT_DOOR, HUB, DeviceKind
from simulator.profiles import Resident, ResidentProfile
from simulator.routine import DAY_S, Act, DayPlan, Routine, Segment, with_transitions
from simulator.script import HomeScript
from simulator.sensors import Reading, SensorRenderer

#: Readings may spill a little past the end of the stretch that produced them (a door
#: closing after the resident left); they are held back this long before release.
SPILL_S = 120.0


@dataclass(frozen=True)
class LifeConfig:
    """How devices report, for every home of a run."""

    first_day: date = date(2026, 1, 5)
    utc_offset_s: float = 8 * 3600
    accel_rate_hz: float = 50.0
    heartbeat_s: float = 3600.0  # battery devices check in hourly (zigbee end devices)
    hub_heartbeat_s: float = 600.0
    climate_s: float = 900.0
    battery_report_s: float = 6 * 3600.0

    @property
    def start(self) -> float:
        return (
            self.first_day.toordinal() - date(1970, 1, 1).toordinal()
        ) * DAY_S - self.utc_offset_s


def stable_seed(*parts: object) -> int:
    """A seed from text, identical in every process (``hash()`` is salted per process)."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class HomeLife:
    home: SimulatedHome
    profile: ResidentProfile
    seed: int
    config: LifeConfig = field(default_factory=LifeConfig)
    script: HomeScript = field(default_factory=HomeScript)
    keep_plans: bool = False

    def __post_init__(self) -> None:
        self.rng = random.Random(stable_seed(self.seed, self.home.home_id))
        self.resident = Resident.draw(self.profile, self.rng)
        self.routine = Routine(
            self.resident, self.config.first_day, self.config.utc_offset_s, self.rng
        )
        accel_rng = np.random.default_rng(stable_seed(self.seed, self.home.home_id, "accel"))
        self.sensors = SensorRenderer(
            self.profile.mobility, self.rng, accel_rng, self.config.accel_rate_hz
        )
        self.plans: list[DayPlan] = []
        self.battery = {
            spec.id: self.rng.uniform(60, 100)
            for spec in self.home.devices
            if DeviceKind(spec.kind) in BATTERY_DRAIN
        }
        self.base_temperature = self.rng.gauss(21.0, 1.2)
        self.base_humidity = self.rng.gauss(45.0, 6.0)
        self._phase = {spec.id: self.rng.uniform(0, 1) for spec in self.home.devices}
        self._cooking: list[tuple[float, float]] = []
        self._started = False

    # --- periodic reports ----------------------------------------------------------------
    def _grid(self, start: float, end: float, every: float, phase: float) -> Iterator[float]:
        first = (
            self.config.start + (math.floor((start - self.config.start) / every) + phase) * every
        )
        at = first if first >= start else first + every
        while at < end:
            yield at
            at += every

    def _periodic(self, start: float, end: float) -> list[Reading]:
        config = self.config
        readings = []
        for spec in self.home.devices:
            every = config.hub_heartbeat_s if spec.id == HUB else config.heartbeat_s
            phase = self._phase[spec.id]
            readings.extend(
                Reading(at, spec.id, EventType.HEARTBEAT)
                for at in self._grid(start, end, every, phase)
            )
            if spec.id in self.battery:
                for at in self._grid(start, end, config.battery_report_s, phase):
                    readings.append(
                        Reading(
                            at, spec.id, metric=Metric.BATTERY, number=self.battery_at(spec.id, at)
                        )
                    )
        for at in self._grid(start, end, config.climate_s, self._phase[CLIMATE]):
            readings.append(
                Reading(at, CLIMATE, metric=Metric.TEMPERATURE, number=self.temperature(at))
            )
            readings.append(Reading(at, CLIMATE, metric=Metric.HUMIDITY, number=self.humidity(at)))
        return readings

    def battery_at(self, device: str, at: float) -> float:
        override = self.script.battery.get(device)
        if override is not None and at >= override[0]:
            return override[1]
        kind = DeviceKind(next(spec.kind for spec in self.home.devices if spec.id == device))
        days = (at - self.config.start) / DAY_S
        return round(max(0.0, self.battery[device] - BATTERY_DRAIN[kind].drain_per_day * days), 1)

    def _hour(self, at: float) -> float:
        return ((at + self.config.utc_offset_s) % DAY_S) / 3600.0

    def temperature(self, at: float) -> float:
        """Indoor air: a daily swing peaking mid-afternoon, warmer while cooking; or a heat wave."""
        value = self.base_temperature + 1.2 * math.sin((self._hour(at) - 9.0) / 24 * 2 * math.pi)
        if any(start <= at < end + 1800 for start, end in self._cooking[-4:]):
            value += 0.6
        if self.script.heat is not None:
            start, ramp_s, peak = self.script.heat
            if at >= start:
                value += (peak - value) * min(1.0, (at - start) / ramp_s)
        return round(value + self.rng.gauss(0, 0.08), 1)

    def humidity(self, at: float) -> float:
        value = self.base_humidity - 5 * math.sin((self._hour(at) - 9.0) / 24 * 2 * math.pi)
        return round(min(100.0, max(5.0, value + self.rng.gauss(0, 0.5))), 1)

    # --- the stream ----------------------------------------------------------------------
    def _stretch(self) -> tuple[float, float, list[Segment], DayPlan | None]:
        if not self._started:
            self._started = True
            segments = self.routine.first_night()
            return segments[0].start, segments[-1].end, segments, None
        plan = self.routine.next_plan()
        return plan.start, plan.end, plan.segments, plan

    def emissions(self, until: float = math.inf, since: float = -math.inf) -> Iterator[Emission]:
        """This home's messages in time order in [since, until) (POSIX s).

        Life before ``since`` is still lived (the routine and the devices' state carry over)
        but not encoded, which is most of the cost: a live run can start late in the day.
        """
        home = self.home
        start = self.config.start
        if start >= since:
            yield from (home.status(spec.id, DeviceState.ONLINE, start) for spec in home.devices)
        pending: list[tuple[float, int, Reading]] = []
        tiebreak = itertools.count()
        wills = sorted(self.script.offline_at)
        stretch_end = start
        while stretch_end < until:
            stretch_start, stretch_end, segments, plan = self._stretch()
            segments = self.script.rewrite(segments, stretch_start, stretch_end)
            segments = with_transitions(segments, self.profile.mobility.walk_s_between_rooms)
            self._cooking = [(s.start, s.end) for s in segments if s.act is Act.COOK]
            if plan is not None and self.keep_plans:
                plan.segments = segments
                self.plans.append(plan)
            visits = plan.visits if plan is not None else []
            readings = self.sensors.render(segments, visits)
            readings += self._periodic(stretch_start, stretch_end)
            readings += [r for r in self.script.readings if stretch_start <= r.at < stretch_end]
            readings += self._held_doors(stretch_start, stretch_end)
            for reading in readings:
                heapq.heappush(pending, (reading.at, next(tiebreak), reading))
            release_until = min(until, stretch_end - SPILL_S)
            while pending and pending[0][0] < release_until:
                at, _, reading = heapq.heappop(pending)
                while wills and wills[0][0] <= at:
                    will_at, device = wills.pop(0)
                    if will_at >= since:
                        yield home.status(device, DeviceState.OFFLINE, will_at, will=True)
                if at >= since and self._delivered(reading):
                    yield home.encode(reading)
        for will_at, device in wills:
            if since <= will_at < until:
                yield home.status(device, DeviceState.OFFLINE, will_at, will=True)

    def _held_doors(self, start: float, end: float) -> list[Reading]:
        readings = []
        for window in self.script.held_open:
            device = window.device or FRONT_DOOR
            if start <= window.start < end:
                readings.append(Reading(window.start, device, EventType.DOOR_OPEN, forced=True))
            if start <= window.end < end:
                readings.append(Reading(window.end, device, EventType.DOOR_CLOSE, forced=True))
        return readings

    def _delivered(self, reading: Reading) -> bool:
        if self.script.silenced(reading.at, reading.device):
            return False
        return reading.forced or not (
            reading.event in {EventType.DOOR_OPEN, EventType.DOOR_CLOSE}
            and self.script.door_held(reading.at, reading.device)
        )

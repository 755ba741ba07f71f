"""Scenarios: one incident in an otherwise normal life, and the alerts it must (not) cause.

Each YAML file in ``simulator/scenarios/`` names a resident profile, the local time of the
incident on the scenario day, what happens, and the expectations the evaluation checks:
``expect`` (alert kind and deadline from the incident) and ``forbid`` (alert kinds, or kind
at a severity, that must not be raised while the scenario is observed).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import time
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from eldercare.models import AlertKind, EventType, Metric, Severity
from simulator.layout import (
    FRONT_DOOR,
    GAS,
    HUB,
    PENDANT,
    SMOKE,
    WALL_BUTTON,
    WATER_LEAK,
    Room,
)
from simulator.routine import Act, Segment
from simulator.script import HomeScript, Rewrite, Window
from simulator.sensors import Reading

SCENARIO_DIR = Path(__file__).with_name("scenarios")
FOREVER = math.inf

_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def _seconds(value: object) -> object:
    """``"90s"``, ``"5min"``, ``"2h"`` or a number of seconds."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9.]+)\s*(s|min|h|d)\s*", value)
        if not match:
            raise ValueError(f"duration {value!r}: use e.g. 30s, 5min, 2h")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fall(_Strict):
    """A fall in a room; optionally the resident gets up and presses cancel."""

    kind: Literal["fall"]
    room: Room
    get_up_after: Seconds | None = None
    cancel_press_after: Seconds | None = None


class StayInBed(_Strict):
    kind: Literal["stay_in_bed"]


class BathroomStay(_Strict):
    kind: Literal["bathroom_stay"]
    duration: Seconds


class WanderOut(_Strict):
    kind: Literal["wander_out"]
    duration: Seconds | None = None  # None: not back while observed


class DoorLeftOpen(_Strict):
    kind: Literal["door_left_open"]
    duration: Seconds


class Hazard(_Strict):
    kind: Literal["hazard"]
    type: Literal["smoke", "gas", "water_leak"]


class HeatWave(_Strict):
    kind: Literal["heat_wave"]
    peak_c: float = Field(ge=25, le=50)
    ramp: Seconds = 7200


class CallButton(_Strict):
    kind: Literal["call_button"]
    device: Literal["btn-hall", "pendant"] = WALL_BUTTON


class BatteryLow(_Strict):
    kind: Literal["battery_low"]
    device: str = PENDANT
    level: float = Field(8.0, ge=0, le=100)


class SensorSilent(_Strict):
    kind: Literal["sensor_silent"]
    device: str


class PowerCut(_Strict):
    kind: Literal["power_cut"]
    last_will_after: Seconds = 25  # keepalive 15 s × 1.5 plus a little


Incident = Annotated[
    Fall
    | StayInBed
    | BathroomStay
    | WanderOut
    | DoorLeftOpen
    | Hazard
    | HeatWave
    | CallButton
    | BatteryLow
    | SensorSilent
    | PowerCut,
    Field(discriminator="kind"),
]


class Expectation(_Strict):
    kind: AlertKind
    within: Seconds
    severity: Severity | None = Field(None, description="if set, the alert must reach it")


class Forbidden(_Strict):
    kind: AlertKind
    severity: Severity | None = Field(None, description="only this severity is forbidden")


class Scenario(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
    description: str
    profile: str = "typical"
    at: time = Field(description="local time of the incident on the scenario day")
    measure_from: time | None = Field(None, description="deadlines count from here, not `at`")
    observe: Seconds = Field(4 * 3600, description="how long after `at` the home is watched")
    incident: Incident
    expect: list[Expectation] = Field(default_factory=list)
    forbid: list[Forbidden] = Field(default_factory=list)

    @property
    def home_id(self) -> str:
        return f"sc-{self.name}"

    def script(self, at: float) -> HomeScript:
        """What this scenario changes in its home's life, with the incident at ``at``."""
        return _script(self.incident, at)


def _phases(at: float, phases: list[tuple[float, float, Room | None, Act, bool]]) -> Rewrite:
    """Replace the resident's intentions by fixed phases (offsets from ``at``)."""
    first, last = at + phases[0][0], at + phases[-1][1]

    def rewrite(segments: list[Segment], start: float, end: float) -> list[Segment]:
        lo, hi = max(first, start), min(last, end)
        if lo >= hi:
            return segments
        before = [replace(s, end=min(s.end, lo)) for s in segments if s.start < lo]
        after = [replace(s, start=max(s.start, hi)) for s in segments if s.end > hi]
        middle = [
            Segment(max(at + a, lo), min(at + b, hi), room, act, pendant)
            for a, b, room, act, pendant in phases
            if max(at + a, lo) < min(at + b, hi)
        ]
        return [*before, *middle, *after]

    return rewrite


def _stay_home(start: float, end: float) -> Rewrite:
    """No outings in a window: the resident stays in the living room instead."""

    def rewrite(segments: list[Segment], _start: float, _end: float) -> list[Segment]:
        return [
            replace(s, room=Room.LIVING_ROOM, act=Act.REST)
            if s.room is None and s.start < end and s.end > start
            else s
            for s in segments
        ]

    return rewrite


def _script(incident: Incident, at: float) -> HomeScript:
    script = HomeScript()
    match incident:
        case Fall(room=room, get_up_after=get_up, cancel_press_after=cancel):
            before = Act.TOILET if room is Room.BATHROOM else Act.STAND
            phases = [(-120.0, 0.0, room, before, True)]
            if get_up is None:
                phases.append((0.0, FOREVER, room, Act.FALLEN, True))
            else:
                phases.append((0.0, get_up, room, Act.FALLEN, True))
                phases.append((get_up, get_up + 600, room, Act.RECOVER, True))
            script.rewrites.append(_phases(at, phases))
            if cancel is not None:
                script.readings.append(Reading(at + cancel, PENDANT, EventType.CANCEL_BUTTON))
        case StayInBed():
            script.rewrites.append(_phases(at, [(0.0, FOREVER, Room.BEDROOM, Act.SLEEP, False)]))
        case BathroomStay(duration=duration):
            script.rewrites.append(_phases(at, [(0.0, duration, Room.BATHROOM, Act.STUCK, True)]))
        case WanderOut(duration=duration):
            until = FOREVER if duration is None else duration
            script.rewrites.append(_phases(at, [(0.0, until, None, Act.OUT, False)]))
        case DoorLeftOpen(duration=duration):
            script.rewrites.append(_phases(at, [(-90.0, 0.0, Room.HALL, Act.CHORES, True)]))
            script.rewrites.append(_stay_home(at, at + duration))
            script.held_open.append(Window(at, at + duration, FRONT_DOOR))
        case Hazard(type=hazard):
            device = {"smoke": SMOKE, "gas": GAS, "water_leak": WATER_LEAK}[hazard]
            script.readings.append(Reading(at, device, EventType(hazard), {"alarm": True}))
        case HeatWave(peak_c=peak, ramp=ramp):
            script.heat = (at, ramp, peak)
        case CallButton(device=device):
            script.readings.append(Reading(at, device, EventType.CALL_BUTTON, {"press": "single"}))
        case BatteryLow(device=device, level=level):
            script.battery[device] = (at, level)
            script.readings.append(Reading(at, device, metric=Metric.BATTERY, number=level))
        case SensorSilent(device=device):
            script.silences.append(Window(at, FOREVER, device))
        case PowerCut(last_will_after=delay):
            script.silences.append(Window(at, FOREVER, None))
            script.offline_at.append((at + delay, HUB))
    return script


@cache
def load_scenarios(directory: Path = SCENARIO_DIR) -> tuple[Scenario, ...]:
    """Every ``*.yaml`` in the folder, sorted by name; a broken file fails loudly."""
    scenarios = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            scenarios.append(Scenario.model_validate(yaml.safe_load(path.read_text("utf-8"))))
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from error
    names = [scenario.name for scenario in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate scenario names in {directory}")
    return tuple(scenarios)

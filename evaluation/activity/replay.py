"""Replay a recorded smart home through the real inactivity rule, with simulated collapses.

Input lines are ``DATE TIME SENSOR LOCATION STATE [ACTIVITY]`` (CASAS style). The activity
column is never read: real homes have no labels. Sensors become contract ``Event``s; which
device is the front door, a bed or a chair comes from the general inference in ``sensors``
unless a map file says otherwise. Every device is reported online once, so silence in a
replay is the resident's, not the hardware's.

A collapse copy is the same recording cut at a random moment: no event after the cut, the
clock runs on, and the first routine alert after the cut is the detection.

With ``feedback``, staff mark every alert of the recording itself false (there is no collapse
in it) right after it is raised, as they would on the dashboard: the rule learns from each
verdict, and the collapse copies start from states that learned them too.
"""

from __future__ import annotations

import random
import re
import statistics
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from detector.activity.feedback import key_of
from detector.activity.rule import InactivityRule, InactivitySettings
from detector.activity.sensors import (
    Role,
    SensorDirectory,
    SensorInfo,
    classify,
    is_front_door_name,
    place_of,
)
from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertUpdate,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Outcome,
)

HOME = "replay"
TICK = timedelta(seconds=60)
ACTIVE = {"ON", "OPEN", "OPENED", "PRESENT", "TRUE", "1", "PRESSED", "OCCUPIED"}
INACTIVE = {"OFF", "CLOSE", "CLOSED", "ABSENT", "FALSE", "0", "RELEASED", "EMPTY"}
CONTACT = {"OPEN", "OPENED", "CLOSE", "CLOSED"}
#: The alerts that would send someone to check on the resident.
COLLAPSE_KINDS = {
    AlertKind.INACTIVITY,
    AlertKind.NO_WAKE_UP,
    AlertKind.BATHROOM_TOO_LONG,
    AlertKind.NIGHT_WANDERING,
}
_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+(.*)$")
_IDENT = re.compile(r"[^A-Za-z0-9_.:-]")


@dataclass(frozen=True)
class Reading:
    ts: datetime
    sensor: str
    location: str
    state: str


def parse_lines(lines: Iterable[str]) -> Iterator[Reading]:
    """Readings from ``DATE TIME SENSOR LOCATION STATE [ACTIVITY…]`` lines; others skipped."""
    for line in lines:
        match = _LINE.match(line.strip())
        if not match:
            continue
        date, time, rest = match.groups()
        fields = rest.split()
        if len(fields) >= 3:
            sensor, location, state = fields[0], fields[1], fields[2]
        elif len(fields) == 2:
            sensor, location, state = fields[0], fields[0], fields[1]
        else:
            continue
        ts = datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=UTC)
        yield Reading(ts, sensor, location, state.upper())


def device_id(reading: Reading) -> str:
    name = (
        reading.sensor
        if reading.sensor == reading.location
        else f"{reading.sensor}-{reading.location}"
    )
    return _IDENT.sub("_", name)[:64]


def load_map(path: Path | None) -> dict[str, dict[str, str]]:
    """``sensors: {NAME: {room: ..., kind: motion|front_door|door|bed|chair|light|ignore}}``.

    NAME matches the sensor, the location, or the device id built from both.
    """
    if path is None:
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {str(k): dict(v or {}) for k, v in (data.get("sensors") or {}).items()}


def build_directory(
    readings: list[Reading], overrides: dict[str, dict[str, str]]
) -> dict[str, SensorInfo]:
    """Each device's meaning, decided once from its names and the states it reports."""
    states: dict[str, set[str]] = {}
    names: dict[str, Reading] = {}
    for reading in readings:
        device = device_id(reading)
        states.setdefault(device, set()).add(reading.state)
        names.setdefault(device, reading)
    infos: dict[str, SensorInfo] = {}
    for device, reading in names.items():
        override = (
            overrides.get(device)
            or overrides.get(reading.sensor)
            or overrides.get(reading.location)
        ) or {}
        room = override.get("room") or reading.location
        kind = override.get("kind")
        contact = bool(states[device] & CONTACT)
        info = classify(reading.sensor, kind, room, contact=contact)
        if "room" in override and info.role not in (Role.FRONT_DOOR, Role.BED, Role.CHAIR):
            info = replace(info, place=place_of(override["room"]))
        infos[device] = info
    if not any(info.role is Role.FRONT_DOOR for info in infos.values()):
        # Recordings that report every switch as ON/OFF (no open/close states) say which
        # is a door only by name: a door switch named for the entrance is the front door.
        # Only where no contact is, so a motion sensor "OutsideDoor" beside one stays a PIR.
        for device, reading in names.items():
            info = infos[device]
            if not info.presence and is_front_door_name(reading.sensor, reading.location):
                infos[device] = classify(reading.sensor, "front_door", info.label)
    return infos


def to_events(readings: list[Reading], infos: dict[str, SensorInfo]) -> list[Event]:
    seqs: dict[str, int] = {}
    events: list[Event] = []
    for reading in readings:
        if reading.state not in ACTIVE and reading.state not in INACTIVE:
            continue  # numeric readings (light level, temperature) are not activity here
        device = device_id(reading)
        role, active = infos[device].role, reading.state in ACTIVE
        if role is Role.IGNORE:
            continue
        if role in (Role.FRONT_DOOR, Role.DOOR):
            kind = EventType.DOOR_OPEN if active else EventType.DOOR_CLOSE
        elif role is Role.BED:
            kind = EventType.BED_OCCUPIED if active else EventType.BED_EMPTY
        elif role is Role.CHAIR:
            kind = EventType.CHAIR_OCCUPIED if active else EventType.CHAIR_EMPTY
        else:
            # Both edges are someone there: a switch released (a cupboard shut, a tap or
            # light turned off, as a contact's close is on the live gateway), a seat or mat
            # left, a motion sensor's last motion (these recordings' PIRs report OFF
            # seconds after ON: CASAS 99 % within 11 s). Before, only ON counted, and an
            # evening on a seat mat was quiet from sitting down until the next other sensor.
            kind = EventType.MOTION
        seqs[device] = seqs.get(device, 0) + 1
        events.append(Event(home=HOME, device=device, seq=seqs[device], ts=reading.ts, type=kind))
    events.sort(key=lambda event: event.ts)
    return events


@dataclass
class Found:
    kind: str
    at: datetime
    context: str = ""  # what raised it (the feedback table's key, else the kind)
    text: str = ""  # the English explanation: why it was raised, for finding the causes

    @classmethod
    def of(cls, alert: Alert) -> Found:
        context = key_of(alert.context or {}) or alert.kind.value
        return cls(alert.kind.value, alert.raised_at, context, alert.explanation.en)


@dataclass
class ReplayResult:
    days: float
    learn_days: float
    false_alarms: list[Found] = field(default_factory=list)
    delays_h: list[tuple[datetime, float | None]] = field(default_factory=list)
    cut_places: list[str] = field(default_factory=list)  # context at each collapse
    #: Collapses cut while a silence alert of the recording already stood unanswered
    #: (``HomeState.alarm_standing``): one incident, so no second alert comes for them.
    cut_alerted: int = 0
    devices: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        scored_days = max(self.days - self.learn_days, 1e-9)
        out: dict[str, Any] = {
            "days": round(self.days, 2),
            "learn_days": self.learn_days,
            "scored_days": round(scored_days, 2),
            "false_alarms": len(self.false_alarms),
            "false_alarms_per_100_days": round(100 * len(self.false_alarms) / scored_days, 2),
            "false_alarm_kinds": _count(a.kind for a in self.false_alarms),
            # A context's first false alarm is news; the ones after it are what staff's
            # verdicts (``--feedback``) should remove.
            "repeat_false_alarms": len(self.false_alarms)
            - len({a.context for a in self.false_alarms}),
            "false_alarm_list": [
                f"{a.at.isoformat()} {a.kind}: {a.text}" for a in self.false_alarms
            ],
            "devices": self.devices,
        }
        if self.delays_h:
            out["collapses"] = _collapse_summary(self.delays_h)
            out["collapses"]["cut_while_alerted"] = self.cut_alerted
            by_place: dict[str, list[float]] = {}
            for place, (_, delay) in zip(self.cut_places, self.delays_h, strict=True):
                by_place.setdefault(place, []).append(24.0 if delay is None else delay)
            out["collapses"]["median_h_by_context"] = {
                place: {"count": len(d), "median_h": round(statistics.median(d), 2)}
                for place, d in sorted(by_place.items())
            }
        return out


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _stats(delays: list[float]) -> dict[str, float | None]:
    if not delays:
        return {"median_h": None, "p90_h": None, "max_h": None}
    ordered = sorted(delays)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "median_h": round(statistics.median(ordered), 2),
        "p90_h": round(p90, 2),
        "max_h": round(ordered[-1], 2),
    }


def _collapse_summary(delays_h: list[tuple[datetime, float | None]]) -> dict[str, Any]:
    within = [d for _, d in delays_h if d is not None and d <= 12]
    day = [d for cut, d in delays_h if 8 <= cut.hour < 22 and d is not None]
    night = [d for cut, d in delays_h if not 8 <= cut.hour < 22 and d is not None]
    total = len(delays_h)
    return {
        "count": total,
        "detected_within_12h": len(within),
        "detected_within_12h_pct": round(100 * len(within) / total, 1),
        "all": _stats([d for _, d in delays_h if d is not None]),
        "day_08_22": {"count": sum(1 for c, _ in delays_h if 8 <= c.hour < 22), **_stats(day)},
        "night": {"count": sum(1 for c, _ in delays_h if not 8 <= c.hour < 22), **_stats(night)},
    }


class Replayer:
    """Drives one fresh ``InactivityRule`` over the events with a 60 s tick."""

    def __init__(
        self,
        events: list[Event],
        infos: dict[str, SensorInfo],
        settings: InactivitySettings,
        feedback: bool = False,
    ) -> None:
        self.events = events
        self.infos = infos
        self.settings = settings
        self.feedback = feedback
        self.times = [event.ts for event in events]

    def new_rule(self) -> InactivityRule:
        directory = SensorDirectory({(HOME, d): info for d, info in self.infos.items()})
        rule = InactivityRule(
            InactivitySettings(
                model=self.settings.model, liveness=self.settings.liveness, default_tz="UTC"
            ),
            directory,
        )
        start = self.events[0].ts
        for device in self.infos:
            rule.on_status(
                DeviceStatus(home=HOME, device=device, state=DeviceState.ONLINE, ts=start), start
            )
        return rule

    def run(
        self, rule: InactivityRule, start: int, stop_at: datetime, now: datetime
    ) -> Iterator[tuple[datetime, list[Found]]]:
        """Feed events from ``start`` until ``stop_at``, ticking; yields each tick's alerts."""
        index = start
        while now < stop_at:
            now = min(now + TICK, stop_at)
            while index < len(self.events) and self.events[index].ts <= now:
                rule.on_event(self.events[index], self.events[index].ts)
                index += 1
            alerts = rule.on_tick(now).alerts
            if self.feedback:
                for alert in alerts:
                    rule.on_verdict(_marked_false(alert, now), now)
            yield now, [Found.of(alert) for alert in alerts]


def _marked_false(alert: Alert, at: datetime) -> AlertUpdate:
    return AlertUpdate(
        alert_id=alert.alert_id,
        home=alert.home,
        status=AlertStatus.RESOLVED,
        at=at,
        outcome=Outcome.FALSE_ALARM,
        context=alert.context,
    )


def evaluate(
    events: list[Event],
    infos: dict[str, SensorInfo],
    *,
    learn_days: float = 7.0,
    collapses: int = 0,
    seed: int = 0,
    settings: InactivitySettings | None = None,
    feedback: bool = False,
) -> ReplayResult:
    settings = settings or InactivitySettings()
    replayer = Replayer(events, infos, settings, feedback)
    first, last = events[0].ts, events[-1].ts
    learn_end = first + timedelta(days=learn_days)
    result = ReplayResult(
        days=(last - first).total_seconds() / 86400,
        learn_days=learn_days,
        devices={d: f"{i.role.value}/{i.place.name.lower()}" for d, i in infos.items()},
    )
    rule = replayer.new_rule()
    snapshots: list[tuple[datetime, bytes]] = []
    next_snapshot = first
    for now, found in replayer.run(rule, 0, last, first):
        if now >= next_snapshot:
            snapshots.append((now, rule.snapshot()))
            next_snapshot = now + timedelta(hours=6)
        if now > learn_end:
            result.false_alarms.extend(a for a in found if a.kind in {k.value for k in AlertKind})
    rng = random.Random(seed)
    snap_times = [at for at, _ in snapshots]
    for _ in range(collapses):
        cut = learn_end + timedelta(seconds=rng.uniform(0, (last - learn_end).total_seconds()))
        at_index = max(0, bisect_left(snap_times, cut) - 1)
        snap_at, blob = snapshots[at_index]
        copy = replayer.new_rule()
        copy.restore(blob)
        cut_index = bisect_left(replayer.times, cut)
        copy_events = Replayer(events[:cut_index], infos, settings, feedback)
        start = bisect_left(replayer.times, snap_at + timedelta(microseconds=1))
        delay: float | None = None
        place = ""
        for now, found in copy_events.run(copy, start, cut + timedelta(hours=24), snap_at):
            if now > cut and not place:
                place = copy.homes[HOME].last_place.name.lower()
                result.cut_alerted += copy.homes[HOME].alarm_standing
            hits = [a for a in found if now > cut and a.kind in {k.value for k in COLLAPSE_KINDS}]
            if hits:
                delay = (hits[0].at - cut).total_seconds() / 3600
                break
        result.delays_h.append((cut, delay))
        result.cut_places.append(place)
    return result


def load_recording(data_dir: Path) -> list[Reading]:
    """The recording in DATA_DIR: a file named ``data`` or every ``*.txt``/``*.csv`` in it."""
    if data_dir.is_file():
        files = [data_dir]
    else:
        files = (
            [data_dir / "data"]
            if (data_dir / "data").is_file()
            else sorted(p for p in data_dir.iterdir() if p.suffix in {".txt", ".csv", ".dat"})
        )
    readings: list[Reading] = []
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as handle:
            readings.extend(parse_lines(handle))
    readings.sort(key=lambda reading: reading.ts)
    return readings

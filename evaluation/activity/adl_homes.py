"""Simulated homes for ``eldercare eval adl``: many layouts and routines, as recorded lines.

Real homes are scarce (four in ``shared/data``), and a method tuned on one layout breaks on
the next. These homes vary what real homes vary — which sensors there are (no bed mat, no
bedroom motion, door and cupboard contacts only), bedtimes, naps, outings, visitors — and
come out as the same ``DATE TIME SENSOR LOCATION STATE`` readings a recording gives, so
they go through the very same replay (name inference included). Figures on them are
reported apart from real homes and never replace them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from eldercare.models import Event, EventType
from evaluation.activity.replay import Reading
from simulator.homes import SimulatedHome
from simulator.layout import STANDARD_DEVICES, DeviceKind, Room
from simulator.life import DAY_S, HomeLife, stable_seed
from simulator.profiles import ResidentProfile, profile
from simulator.routine import Act, DayPlan

#: Sensor layouts, by what a home does *not* have (the standard flat has everything).
LAYOUTS = (
    "full",
    "no_bed_mat",
    "no_bedroom_sensor",
    "contacts_only",
    "bed_mat_only",
    "seat_mat",
)
PROFILES = ("typical", "active", "frail")
_STATE = {
    EventType.MOTION: "ON",
    EventType.NO_MOTION: "OFF",
    EventType.DOOR_OPEN: "OPEN",
    EventType.DOOR_CLOSE: "CLOSE",
    EventType.BED_OCCUPIED: "PRESENT",
    EventType.BED_EMPTY: "ABSENT",
    EventType.TOILET_FLUSH: "ON",
}
#: In a contacts-only home, movement in these rooms is seen only when the resident opens a
#: cupboard, the fridge or a wardrobe: kept with this probability per motion reading.
_CONTACT_SHARE = {"kitchen": 0.35, "living_room": 0.08, "bedroom": 0.0, "hall": 0.0}
#: ``seat_mat`` (the issue's homes A and B): motion only where these are, a pressure mat on
#: the living-room seat and one on the bed, door and cupboard contacts elsewhere.
_SEAT_MAT_MOTION = ("kitchen", "bathroom")


@dataclass(frozen=True)
class SimHome:
    name: str
    profile: str
    layout: str
    bedtime_shift_min: float
    readings: list[Reading]


def _room(device: str) -> str:
    spec = next((s for s in STANDARD_DEVICES if s.id == device), None)
    return str(spec.room) if spec is not None and spec.room is not None else device


def _keep(layout: str, kind: str, room: str, rng: random.Random) -> str | None:
    """The sensor name a reading has in this layout, or None when the layout lacks it."""
    if kind == DeviceKind.BED:
        return None if layout in ("no_bed_mat", "no_bedroom_sensor", "contacts_only") else "Bed"
    if kind != DeviceKind.MOTION:
        return "Door" if kind == DeviceKind.DOOR else "Flush"
    if layout == "contacts_only" or (layout == "seat_mat" and room not in _SEAT_MAT_MOTION):
        return "Cupboard" if rng.random() < _CONTACT_SHARE.get(room, 0.0) else None
    if room == "bedroom" and layout in ("no_bedroom_sensor", "bed_mat_only"):
        return None
    return "Motion"


def _variant(index: int, seed: int) -> tuple[random.Random, str, str, float]:
    """Home number ``index``: its profile and layout follow from the index, its bedtime
    shift and life from the seed. The layout cycles with the index; the profile cycles too
    but moves on by one after each round of layouts, so every profile meets every layout
    (within 18 homes) although 3 profiles and 6 layouts are not coprime."""
    rng = random.Random(stable_seed(seed, "adl-home", index))
    layout = LAYOUTS[index % len(LAYOUTS)]
    name = PROFILES[(index + index // len(LAYOUTS)) % len(PROFILES)]
    return rng, name, layout, rng.uniform(-75, 75)


def describe(index: int, seed: int) -> str:
    _, name, layout, shift = _variant(index, seed)
    return f"sim-{index:02d} {name} {layout} bed{shift:+.0f}m"


def home_life(index: int, seed: int) -> tuple[HomeLife, random.Random]:
    """Home number ``index``'s life, and the generator that goes on to thin its readings
    to the layout's sensors (see ``_variant``).

    The moved bedtime is a clock time, so one moved past midnight (23:00 + 65 min) reads
    00:05; the profile takes that as the following night's. The varied profile is
    validated like a YAML one (``model_copy`` alone would not check it)."""
    rng, name, layout, shift = _variant(index, seed)
    base = profile(name)
    moved = datetime.combine(date(2000, 1, 1), base.bedtime.mean) + timedelta(minutes=shift)
    nap = base.nap.model_copy(update={"probability": rng.uniform(0.1, 0.9)}) if base.nap else None
    bedtime = base.bedtime.model_copy(
        update={"mean": moved.time().replace(second=0, microsecond=0)}
    )
    varied = ResidentProfile.model_validate(
        base.model_copy(update={"bedtime": bedtime, "nap": nap}).model_dump()
    )
    home = SimulatedHome(f"sim-{index:02d}")
    keep_plans = layout == "seat_mat"  # the seat mat is read from the plans
    return HomeLife(home, varied, seed=seed + index, keep_plans=keep_plans), rng


def simulate_home(index: int, days: int, seed: int) -> SimHome:
    """The development set's home number ``index`` as readings (see ``_variant``)."""
    _, name, layout, shift = _variant(index, seed)
    life, rng = home_life(index, seed)
    home = life.home
    seat = life.keep_plans
    end = life.config.start + days * DAY_S
    readings: list[Reading] = []
    for emission in life.emissions(until=end):
        if emission.kind not in {e.value for e in _STATE}:
            continue
        event = Event.model_validate_json(emission.payload)
        spec_kind = next(s.kind for s in STANDARD_DEVICES if s.id == event.device)
        room = _room(event.device)
        sensor = _keep(layout, spec_kind, room, rng)
        if sensor is None:
            continue
        state = "OPEN" if sensor == "Cupboard" else _STATE[event.type]
        if spec_kind == DeviceKind.DOOR and event.device.endswith("front"):
            sensor = "FrontDoor"
        # Recordings carry local wall-clock time; the replay reads it as such.
        ts = datetime.fromtimestamp(emission.at + life.config.utc_offset_s, UTC)
        readings.append(Reading(ts, f"{sensor}_{room}", room, state))
        if sensor == "Cupboard":
            closed = ts + timedelta(seconds=2)
            readings.append(Reading(closed, f"{sensor}_{room}", room, "CLOSE"))
    if seat:
        offset = timedelta(seconds=life.config.utc_offset_s)
        readings += [
            Reading(ts + offset, "Seat_living_room", "living_room", state)
            for ts, state in seat_readings(life.plans, end)
        ]
    readings.sort(key=lambda reading: reading.ts)
    return SimHome(home.home_id, name, layout, round(shift), readings)


#: What the resident does sitting in the living room (the armchair): the TV evening, rest
#: and visits.
_SEATED = frozenset({Act.TV, Act.REST})
_MIN_SITTING_S = 60.0


def seat_readings(plans: list[DayPlan], until: float) -> list[tuple[datetime, str]]:
    """The living-room seat mat's PRESENT / ABSENT (UTC) over the plans' segments: occupied
    from sitting down to getting up, one session for back-to-back seated activities (an
    evening of TV is one sitting until the resident gets up for the toilet or bed).

    The simulator's own devices have no seat mat (its scenarios are unchanged); the mat
    reads the same life the other sensors do."""
    sessions: list[list[float]] = []
    for plan in plans:
        for segment in plan.segments:
            if segment.room is not Room.LIVING_ROOM or segment.act not in _SEATED:
                continue
            if sessions and abs(segment.start - sessions[-1][1]) < 1:
                sessions[-1][1] = segment.end
            else:
                sessions.append([segment.start, segment.end])
    readings: list[tuple[datetime, str]] = []
    for start, end in sessions:
        if end - start < _MIN_SITTING_S:
            continue  # a seat touched in passing (a segment cut short by a walk)
        for at, state in ((start + 5, "PRESENT"), (end - 3, "ABSENT")):
            if at < until:
                readings.append((datetime.fromtimestamp(at, UTC), state))
    return readings


def simulated_homes(count: int, days: int = 21, seed: int = 0) -> list[SimHome]:
    return [simulate_home(index, days, seed) for index in range(count)]

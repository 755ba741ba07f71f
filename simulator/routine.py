"""The resident model: a person's day as a sequence of (room, activity) segments.

The routine is generated wake-to-wake, one "day" at a time, from the resident's personal
habits plus day-to-day noise, so a run of any length is produced lazily and the same seed
always gives the same life. Segments are *intentions* (where the person is and what they
do); walking between rooms and going through the front door are added afterwards by
``with_transitions``, so scenarios can rewrite intentions without caring about doors.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

from simulator.layout import Room, adjacent
from simulator.profiles import Activity, Resident, minutes

DAY_S = 86_400.0


class Act(StrEnum):
    SLEEP = "sleep"
    DRESS = "dress"
    WASH = "wash"
    TOILET = "toilet"
    COOK = "cook"
    EAT = "eat"
    TV = "tv"
    REST = "rest"
    CHORES = "chores"
    NAP = "nap"
    OUT = "out"
    # Inserted by with_transitions:
    WALK = "walk"
    LEAVE = "leave"
    ARRIVE = "arrive"
    # Only in scenarios:
    STAND = "stand"
    FALLEN = "fallen"
    RECOVER = "recover"
    STUCK = "stuck"


@dataclass(frozen=True, slots=True)
class ActTraits:
    """What an activity looks like to the sensors."""

    motion_per_hour: float  # PIR-visible movements (beyond entering the room)
    posture: str = "standing"  # standing, sitting, lying
    in_bed: bool = False
    bathroom_door_closed: bool = False


@cache
def traits(act: Act, fidget_per_hour: float) -> ActTraits:
    table = {
        Act.SLEEP: ActTraits(0.4, "lying", in_bed=True),
        Act.NAP: ActTraits(0.6, "lying", in_bed=True),
        Act.DRESS: ActTraits(50),
        Act.WASH: ActTraits(50, bathroom_door_closed=True),
        Act.TOILET: ActTraits(fidget_per_hour * 2, "sitting", bathroom_door_closed=True),
        Act.STUCK: ActTraits(fidget_per_hour / 2, "sitting", bathroom_door_closed=True),
        Act.COOK: ActTraits(70),
        Act.EAT: ActTraits(fidget_per_hour * 2, "sitting"),
        Act.TV: ActTraits(fidget_per_hour, "sitting"),
        Act.REST: ActTraits(fidget_per_hour * 1.5, "sitting"),
        Act.CHORES: ActTraits(45),
        Act.OUT: ActTraits(0),
        Act.WALK: ActTraits(0),
        Act.LEAVE: ActTraits(60),
        Act.ARRIVE: ActTraits(60),
        Act.STAND: ActTraits(30),
        Act.FALLEN: ActTraits(0, "lying"),
        Act.RECOVER: ActTraits(fidget_per_hour, "sitting"),
    }
    return table[act]


@dataclass(frozen=True, slots=True)
class Segment:
    """[start, end) in POSIX seconds; ``room`` None means out of the flat."""

    start: float
    end: float
    room: Room | None
    act: Act
    pendant: bool = False  # worn during this segment

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Visit:
    """Someone else in the flat: who, when, and where they spend the time."""

    name: str
    start: float
    end: float
    rooms: tuple[Room, ...]


@dataclass
class DayPlan:
    """One wake-to-wake stretch of life: the resident's segments and any visitors."""

    start: float  # the resident got up
    end: float  # and got up again the next day
    segments: list[Segment]
    visits: list[Visit] = field(default_factory=list)


@dataclass
class Routine:
    """Generates consecutive DayPlans for one resident (lazily; same seed, same life)."""

    resident: Resident
    first_day: date
    utc_offset_s: float
    rng: random.Random
    _day: int = 0
    _next_wake: float | None = None
    _visit_times: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Each home's carer and family come at their own usual time.
        for visit in self.resident.profile.visits:
            self._visit_times[visit.name] = minutes(visit.at.mean) + self.rng.gauss(
                0, visit.at.person_sd_min
            )

    def local_midnight(self, day: int) -> float:
        midnight = (self.first_day + timedelta(days=day)).toordinal() - date(1970, 1, 1).toordinal()
        return midnight * DAY_S - self.utc_offset_s

    def _at(self, day: int, minute_of_day: float) -> float:
        return self.local_midnight(day) + minute_of_day * 60.0

    def _draw_wake(self, day: int) -> float:
        sd = self.resident.profile.wake.day_sd_min
        return self._at(day, self.rng.gauss(self.resident.wake_min, sd))

    def first_plan_start(self) -> float:
        """The run begins at local midnight of the first day, asleep."""
        return self.local_midnight(0)

    def next_plan(self) -> DayPlan:
        day = self._day
        if self._next_wake is None:
            # Day 0 starts at midnight asleep; the first real plan begins at the first wake.
            self._next_wake = self._draw_wake(0)
        wake = self._next_wake
        following = self._draw_wake(day + 1)
        self._next_wake = following
        self._day += 1
        return _plan_day(self, day, wake, following)

    def first_night(self) -> list[Segment]:
        """Midnight to the first wake-up of the run."""
        if self._next_wake is None:
            self._next_wake = self._draw_wake(0)
        return [Segment(self.first_plan_start(), self._next_wake, Room.BEDROOM, Act.SLEEP)]


def _gauss_duration(rng: random.Random, activity: Activity) -> float:
    return max(5.0, rng.gauss(activity.duration_min, activity.duration_sd_min)) * 60.0


@dataclass(frozen=True, slots=True)
class _Anchor:
    start: float
    end: float
    kind: str  # breakfast, lunch, dinner, nap, out, visit
    priority: int
    visit: Visit | None = None


def _plan_day(routine: Routine, day: int, wake: float, next_wake: float) -> DayPlan:
    rng = routine.rng
    resident = routine.resident
    profile = resident.profile
    weekday = (routine.first_day + timedelta(days=day)).weekday()

    def local(minute_of_day: float, sd: float) -> float:
        return routine._at(day, rng.gauss(minute_of_day, sd))

    bedtime = local(resident.bedtime_min, profile.bedtime.day_sd_min)
    bedtime = min(max(bedtime, wake + 10 * 3600), next_wake - 5 * 3600)

    anchors: list[_Anchor] = []
    out_for_lunch = False
    for outing in profile.outings:
        if weekday in outing.weekdays and rng.random() < outing.probability:
            start = local(minutes(outing.at.mean), outing.at.day_sd_min)
            anchors.append(_Anchor(start, start + _gauss_duration(rng, outing), "out", 2))
            out_for_lunch |= outing.replaces_lunch
    for visit in profile.visits:
        if weekday in visit.weekdays and rng.random() < visit.probability:
            start = local(routine._visit_times[visit.name], visit.at.day_sd_min)
            planned = Visit(
                visit.name,
                start,
                start + _gauss_duration(rng, visit),
                tuple(Room(room) for room in visit.rooms),
            )
            anchors.append(_Anchor(planned.start, planned.end, "visit", 3, planned))
    meals = profile.meals
    for kind, mean, activity in (
        ("breakfast", resident.breakfast_min, meals.breakfast),
        ("lunch", resident.lunch_min, meals.lunch),
        ("dinner", resident.dinner_min, meals.dinner),
    ):
        if kind == "lunch" and out_for_lunch:
            continue
        start = max(local(mean, activity.at.day_sd_min), wake + 20 * 60)
        anchors.append(_Anchor(start, start + _gauss_duration(rng, activity), kind, 2))
    if profile.nap and weekday in profile.nap.weekdays and rng.random() < profile.nap.probability:
        start = local(minutes(profile.nap.at.mean), profile.nap.at.day_sd_min)
        anchors.append(_Anchor(start, start + _gauss_duration(rng, profile.nap), "nap", 1))

    placed: list[_Anchor] = []
    for anchor in sorted(anchors, key=lambda a: (-a.priority, a.start)):
        if anchor.start < wake + 20 * 60 or anchor.end > bedtime - 15 * 60:
            continue
        if all(
            anchor.end + 300 <= other.start or anchor.start >= other.end + 300 for other in placed
        ):
            placed.append(anchor)
    placed.sort(key=lambda a: a.start)

    pendant = rng.random() < profile.pendant_worn
    builder = _Builder(rng, resident, pendant)
    builder.add(wake, wake + rng.uniform(5, 12) * 60, Room.BEDROOM, Act.DRESS)
    builder.add(builder.cursor, builder.cursor + rng.uniform(8, 15) * 60, Room.BATHROOM, Act.WASH)
    for anchor in placed:
        builder.fill_until(anchor.start)
        if anchor.kind in {"breakfast", "lunch", "dinner"}:
            cook = min(anchor.end - anchor.start, rng.uniform(8, 25) * 60)
            builder.add(anchor.start, anchor.start + cook, Room.KITCHEN, Act.COOK)
            builder.add(builder.cursor, anchor.end, Room.KITCHEN, Act.EAT)
        elif anchor.kind == "out":
            builder.add(anchor.start, anchor.end, None, Act.OUT)
        elif anchor.kind == "nap":
            builder.add(anchor.start, anchor.end, Room.BEDROOM, Act.NAP)
        else:
            builder.add(anchor.start, anchor.end, Room.LIVING_ROOM, Act.REST)
    builder.fill_until(bedtime - 12 * 60, evening=True)
    builder.add(builder.cursor, bedtime, Room.BATHROOM, Act.WASH)
    builder.pendant = False
    builder.add(bedtime, next_wake, Room.BEDROOM, Act.SLEEP)

    segments = builder.segments
    segments = _insert_bathroom_visits(
        segments, rng, wake, bedtime, profile.day_bathroom_visits, resident, day_time=True
    )
    segments = _insert_bathroom_visits(
        segments, rng, bedtime + 1800, next_wake - 1800, profile.night_bathroom_visits, resident
    )
    return DayPlan(
        wake,
        next_wake,
        segments,
        [anchor.visit for anchor in placed if anchor.visit is not None],
    )


class _Builder:
    """Appends contiguous segments and fills free time with what people do at home."""

    FILLERS = (
        (Room.LIVING_ROOM, Act.TV, 0.35),
        (Room.LIVING_ROOM, Act.REST, 0.3),
        (Room.KITCHEN, Act.CHORES, 0.15),
        (Room.BEDROOM, Act.CHORES, 0.1),
        (Room.BEDROOM, Act.REST, 0.1),
    )

    def __init__(self, rng: random.Random, resident: Resident, pendant: bool) -> None:
        self.rng = rng
        self.resident = resident
        self.pendant = pendant
        self.segments: list[Segment] = []

    @property
    def cursor(self) -> float:
        return self.segments[-1].end

    def add(self, start: float, end: float, room: Room | None, act: Act) -> None:
        if self.segments:
            start = self.cursor  # contiguous by construction: no gap, no overlap
        if end - start < 1:
            return
        self.segments.append(Segment(start, end, room, act, self.pendant and room is not None))

    def fill_until(self, until: float, evening: bool = False) -> None:
        while until - self.cursor > 60:
            if evening:
                room, act = Room.LIVING_ROOM, Act.TV
            else:
                rooms, acts, weights = zip(*self.FILLERS, strict=True)
                index = self.rng.choices(range(len(rooms)), weights)[0]
                room, act = rooms[index], acts[index]
            length = self.rng.uniform(15, 60) * 60
            self.add(self.cursor, min(until, self.cursor + length), room, act)
        if until > self.cursor:
            last = self.segments[-1]
            self.segments[-1] = replace(last, end=until)


def _insert_bathroom_visits(
    segments: list[Segment],
    rng: random.Random,
    start: float,
    end: float,
    mean: float,
    resident: Resident,
    day_time: bool = False,
) -> list[Segment]:
    """Toilet visits at Poisson-random times, cut out of whatever the resident was doing."""
    if end <= start:
        return segments
    visit_s = resident.profile.bathroom_visit_min * 60
    return add_toilet_visits(segments, rng, start, end, poisson(rng, mean), visit_s, day_time)


def add_toilet_visits(
    segments: list[Segment],
    rng: random.Random,
    start: float,
    end: float,
    count: int,
    visit_s: float,
    day_time: bool = False,
) -> list[Segment]:
    """``count`` toilet visits at uniform times in [start, end) (scenarios add them too)."""
    for at in sorted(rng.uniform(start, end) for _ in range(count)):
        duration = max(120.0, rng.gauss(visit_s, visit_s / 4))
        segments = _cut_in(segments, at, duration, day_time)
    return segments


def _cut_in(segments: list[Segment], at: float, duration: float, day_time: bool) -> list[Segment]:
    for index, segment in enumerate(segments):
        if not segment.start <= at < segment.end:
            continue
        if segment.room is None or segment.act in {Act.WASH, Act.TOILET, Act.COOK}:
            return segments  # out, or already there: skip rather than teleport
        if day_time and segment.act is Act.SLEEP:
            return segments
        end = min(at + duration, segment.end)
        if end - at < 60:
            return segments
        pieces = [
            replace(segment, end=at),
            Segment(at, end, Room.BATHROOM, Act.TOILET, segment.pendant),
            replace(segment, start=end),
        ]
        kept = [piece for piece in pieces if piece.duration >= 1]
        return [*segments[:index], *kept, *segments[index + 1 :]]
    return segments


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: small means only, which is all a day's habits need."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def with_transitions(segments: list[Segment], walk_s: float) -> list[Segment]:
    """Add the walks between rooms and the front-door steps of leaving and coming home.

    Walks take their time from the end of the previous segment, so every planned segment
    (and a scenario's incident) still starts exactly when it was planned.
    """
    result: list[Segment] = []
    for segment in segments:
        previous = result[-1] if result else None
        if previous is None or previous.room == segment.room:
            result.append(segment)
            continue
        steps: list[tuple[Room, Act, float]] = []
        if previous.room is None:  # coming home: door, then the hall, then on
            steps.append((Room.HALL, Act.ARRIVE, 45.0))
            if segment.room is not Room.HALL:
                steps.append((Room.HALL, Act.WALK, walk_s / 2))
            _prepend_after(result, segment, steps)
            continue
        if segment.room is None:
            if previous.room is not Room.HALL:
                steps.append((Room.HALL, Act.WALK, walk_s / 2))
            steps.append((Room.HALL, Act.LEAVE, 45.0))
        elif not adjacent(previous.room, segment.room):
            steps.append((Room.HALL, Act.WALK, walk_s))
        _take_from_previous(result, segment, steps)
    return _drop_empty(result)


def _take_from_previous(result: list[Segment], segment: Segment, steps: list) -> None:
    previous = result[-1]
    needed = sum(length for _, _, length in steps)
    available = max(0.0, previous.duration - 1.0)
    scale = min(1.0, available / needed) if needed else 1.0
    cursor = segment.start - needed * scale
    result[-1] = replace(previous, end=cursor)
    for room, act, length in steps:
        result.append(Segment(cursor, cursor + length * scale, room, act, previous.pendant))
        cursor += length * scale
    result.append(segment)


def _prepend_after(result: list[Segment], segment: Segment, steps: list) -> None:
    cursor = segment.start
    available = max(0.0, segment.duration - 1.0)
    needed = sum(length for _, _, length in steps)
    scale = min(1.0, available / needed) if needed else 1.0
    for room, act, length in steps:
        result.append(Segment(cursor, cursor + length * scale, room, act, segment.pendant))
        cursor += length * scale
    result.append(replace(segment, start=cursor))


def _drop_empty(segments: list[Segment]) -> list[Segment]:
    return [segment for segment in segments if segment.duration > 0]

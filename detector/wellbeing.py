"""Each home's day in numbers, for the station's visiting list and slow-decline trends.

A rule of its own, fed the same messages right after the inactivity rule: it reads what
that rule already decided about each sign of life (the room, out of home or not, in bed or
not, holiday mode, silent sensors) instead of deciding it a second time, and keeps only
today's running tallies, packed in 41 bytes per home (the detector's state budget is
2 KiB per home at 100 k homes). At each home's local midnight it emits the day as a
``DailySummary``; history and trends live with the writer (alerting), not here.

The night counted in a day's summary is the one that ended that morning, so its tallies
run from noon to noon and are set aside at noon; the rest runs midnight to midnight.
Positions in the day are minutes since noon of the day before ("coordinates": 720 is
00:00 today, 1440 noon, 2160 the next midnight), which keeps a night in one number line;
a night's own positions (onset, wake-up) count from the noon before it.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from detector.activity.home import HomeState
from detector.activity.rule import InactivityRule
from detector.activity.sensors import DAY_PLACES, Place, Role
from detector.rules import BaseRule, RuleOutput
from eldercare.logs import get_logger
from eldercare.models import DailySummary, Event, EventType, SeriesPoint

log = get_logger("detector.wellbeing")

MIDNIGHT = 720
NOON = 1440
NEXT_MIDNIGHT = 2160
#: Sleep onset is looked for from 18:00 the evening before until 03:00.
ONSET_FROM, ONSET_UNTIL = 360, 900
#: Up again in a day room before 01:00: that was not yet going to sleep.
ONSET_RESET_UNTIL = 780
#: Wake-up: the last time out of bed between 04:00 and noon before the resident is up and
#: about (kitchen, living room, out). Not simply the last time out of bed before noon: in a
#: home without a bed sensor, quiet in the bedroom stands for sleep, and dressing or tidying
#: there at 11:30 made the real home of docs/wellbeing.md "wake" at 11:30 every day, with
#: the morning's toilet visits counted as the night's.
WAKE_FROM, WAKE_UNTIL = MIDNIGHT + 4 * 60, NOON
#: Without a bed sensor, out of the bedroom again after less quiet in it than this: she was
#: up already (dressing), not back to sleep, and the wake-up stays where it was. A bed
#: sensor says so itself: every time back in bed counts.
BACK_TO_BED = 30
#: Bathroom entries closer than this are one visit (the sensor lost sight of them).
BATH_VISIT_GAP = 10
#: Meal times, local hours: kitchen use in a window counts as that meal.
MEALS = ((5.0, 10.0), (10.5, 14.0), (16.5, 20.5))
ROOMS = (Place.BEDROOM, Place.BATHROOM, Place.KITCHEN, Place.LIVING, Place.OTHER)
ROOM_OF = {Place.BED: Place.BEDROOM, Place.CHAIR: Place.LIVING}
#: Rooms that mean "up and about" (the hall is only passed on the way to the toilet).
UP_PLACES = DAY_PLACES - {Place.OTHER}

SLEEP, OUT, BATH, FROZEN, AWAY, ROSE = 1, 2, 4, 8, 16, 32
_LAYOUT = struct.Struct("<IHB" + "HHHBBHH" + "HHHB" + "HBBB" + "H" * len(ROOMS))
#: Counts saturate at their field's size rather than fail to pack.
_LIMITS = tuple({"I": 2**32 - 1, "H": 2**16 - 1, "B": 2**8 - 1}[c] for c in _LAYOUT.format[1:])


@dataclass(slots=True)
class Tally:
    """Today's running tallies of one home (``pack``ed between messages)."""

    day: int  # local date ordinal
    at: int  # coordinate accounted up to
    flags: int = 0  # what the home was doing since ``at`` (SLEEP, OUT, BATH) + FROZEN, AWAY, ROSE
    bed: int = 0  # night being counted: minutes in bed
    onset: int = 0  # coordinate, 0 = not yet
    wake: int = 0
    bath: int = 0  # bathroom visits since sleep onset
    bath_at_wake: int = 0  # … of them before the last time out of bed this morning
    last_bath: int = 0
    in_bed_from: int = 0  # when the current stretch in bed began
    night_bed: int = 0  # the night that ended this morning (set aside at noon)
    night_onset: int = 0
    night_wake: int = 0
    night_bath: int = 0
    out: int = 0  # minutes out of home today
    outings: int = 0
    door: int = 0
    meals: int = 0  # bit per meal time
    bedroom: int = 0
    bathroom: int = 0
    kitchen: int = 0
    living: int = 0
    other: int = 0

    def pack(self) -> bytes:
        # Not dataclasses.astuple: it deep-copies each field, and this runs on every event
        # (it was 40 % of the detector's time per event).
        return _LAYOUT.pack(*map(min, _values(self), _LIMITS))

    @classmethod
    def unpack(cls, data: bytes) -> Tally:
        return cls(*_LAYOUT.unpack(data))

    def night_at(self, at: int) -> int:
        """A coordinate of today as a position in the night being counted."""
        return at - 1440 if self.flags & FROZEN else at

    def room_counts(self) -> list[int]:
        return [self.bedroom, self.bathroom, self.kitchen, self.living, self.other]

    def count_room(self, place: Place) -> None:
        name = ROOM_OF.get(place, place).name.lower()
        setattr(self, name, getattr(self, name) + 1)


_values = attrgetter(*(field.name for field in fields(Tally)))


def coordinate(state: HomeState, day: int, now: datetime) -> int:
    """Minutes since noon of the day before ``day``, in the home's local time."""
    local = state.local(now)
    return MIDNIGHT + (local.toordinal() - day) * 1440 + local.hour * 60 + local.minute


class WellbeingRule(BaseRule):
    """Tallies each home's day from the inactivity rule's view; emits it at midnight."""

    name = "wellbeing"

    def __init__(self, source: InactivityRule) -> None:
        self.source = source
        #: home -> packed ``Tally`` (keyed by the inactivity rule's own id string)
        self.tallies: dict[str, bytes] = {}
        #: time zone -> next local noon or midnight (UTC), when every home there rolls over
        self._boundaries: dict[str, datetime] = {}

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        state = self.source.homes.get(event.home)
        # Only what the inactivity rule took as a sign of life now (not a duplicate, late,
        # ignored or non-activity message) moves the tallies.
        if state is None or (state.last_device, state.last_seq) != (event.device, event.seq):
            return RuleOutput()
        output = RuleOutput()
        tally = self._advance(state, now, output)
        at = coordinate(state, tally.day, now)
        self._account(tally, state, at, now)
        place = state.last_place
        if place is not Place.OUT:
            tally.count_room(place)
        hour = (at - MIDNIGHT) / 60
        if place is Place.KITCHEN:
            for bit, (start, end) in enumerate(MEALS):
                if start <= hour < end:
                    tally.meals |= 1 << bit
        if place in UP_PLACES and tally.night_at(at) < ONSET_RESET_UNTIL:
            # Up again: not asleep yet, and the bathroom visits since were the evening's.
            tally.onset = tally.bath = 0
        if event.type is EventType.DOOR_OPEN and self._front_door(event):
            tally.door += 1
        self._set_flags(tally, state, at)
        self.tallies[state.home] = tally.pack()
        return output

    def on_tick(self, now: datetime) -> RuleOutput:
        output = RuleOutput()
        due = {tz for tz, at in self._boundaries.items() if now >= at}
        for home, packed in list(self.tallies.items()):
            state = self.source.homes.get(home)
            if state is None:
                del self.tallies[home]
                continue
            tz = state.tz.key
            if tz not in self._boundaries:
                self._boundaries[tz] = _next_boundary(state.tz, now)
            elif tz in due:
                tally = self._advance(state, now, output, Tally.unpack(packed))
                self.tallies[home] = tally.pack()
        for tz in due:
            self._boundaries[tz] = _next_boundary(ZoneInfo(tz), now)
        return output

    def _front_door(self, event: Event) -> bool:
        info = self.source.directory.lookup(event.home, event.device, contact=True)
        return info.role is Role.FRONT_DOOR

    # -- tallies --------------------------------------------------------------------------

    def _advance(
        self, state: HomeState, now: datetime, output: RuleOutput, tally: Tally | None = None
    ) -> Tally:
        """The home's tally brought up to ``now``: the night set aside at noon, the day
        emitted at midnight (as often as they passed; a detector down for days emits the
        last day it saw, then starts afresh)."""
        if tally is None:
            packed = self.tallies.get(state.home)
            if packed is None:
                day = state.local(now).toordinal()
                return _fresh(state, day, now)
            tally = Tally.unpack(packed)
        at = coordinate(state, tally.day, now)
        if at >= NOON and not tally.flags & FROZEN:
            self._account(tally, state, NOON, now)
            tally.night_bed, tally.night_onset = tally.bed, tally.onset
            tally.night_wake = tally.wake
            tally.night_bath = tally.bath_at_wake if tally.wake else tally.bath
            tally.bed = tally.onset = tally.wake = tally.bath = tally.bath_at_wake = 0
            tally.last_bath = 0
            tally.flags = (tally.flags & ~ROSE) | FROZEN
        if at >= NEXT_MIDNIGHT:
            self._account(tally, state, NEXT_MIDNIGHT, now)
            summary = self._summary(state, tally, now)
            output.summaries.append(summary)
            output.points.append(summary_point(summary, state))
            tally = _next_day(tally, state, now)
            return self._advance(state, now, output, tally)
        return tally

    def _account(self, tally: Tally, state: HomeState, until: int, now: datetime) -> None:
        """Minutes since ``at`` go to what the home was doing then."""
        minutes = max(0, until - tally.at)
        if tally.flags & SLEEP:
            tally.bed += minutes
        if tally.flags & OUT:
            tally.out += minutes
        if state.away(now):
            tally.flags |= AWAY
        tally.at = max(tally.at, until)

    def _set_flags(self, tally: Tally, state: HomeState, at: int) -> None:
        """What the home is doing from ``at`` on, and what starting it means (onset,
        an outing, a bathroom visit at night)."""
        # In bed: the bed sensor where the home has one, else quiet in the bedroom (the
        # inactivity rule's context, which also covers homes that infer sleep).
        sees_bed = bool(state.last_at[Place.BED] > 0)
        sleep = state.bed or (not sees_bed and state.context_place is Place.BEDROOM)
        out = state.last_place is Place.OUT
        bath = state.last_place is Place.BATHROOM
        night = tally.night_at(at)
        starts_sleep = sleep and not tally.flags & SLEEP and not tally.onset
        if starts_sleep and ONSET_FROM <= night < ONSET_UNTIL:
            tally.onset = night
        if sleep and not tally.flags & SLEEP:
            tally.in_bed_from = night
        rising = not tally.flags & ROSE and WAKE_FROM <= night < WAKE_UNTIL
        back_to_bed = sees_bed or not tally.wake or night - tally.in_bed_from >= BACK_TO_BED
        if rising and back_to_bed and not sleep and tally.flags & SLEEP:
            tally.wake, tally.bath_at_wake = night, tally.bath  # up; maybe back to bed later
        if rising and tally.wake and state.last_place in UP_PLACES:
            tally.flags |= ROSE  # up and about: the night ended at the last time out of bed
        if out and not tally.flags & OUT:
            tally.outings += 1
        visit = bath and not tally.flags & BATH and night - tally.last_bath >= BATH_VISIT_GAP
        if visit and tally.onset:
            tally.bath += 1
            tally.last_bath = night
        kept = tally.flags & (FROZEN | AWAY | ROSE)
        tally.flags = kept | (SLEEP if sleep else 0) | (OUT if out else 0) | (BATH if bath else 0)

    def _summary(self, state: HomeState, tally: Tally, now: datetime) -> DailySummary:
        summary = DailySummary(
            home=state.home,
            day=date.fromordinal(tally.day),
            sleep_onset_h=_hours_of_night(tally.night_onset),
            wake_h=round((tally.night_wake - MIDNIGHT) / 60, 2) if tally.night_wake else None,
            in_bed_h=round(min(tally.night_bed, 1440) / 60, 2),
            night_bathroom=tally.night_bath,
            out_h=round(min(tally.out, 1440) / 60, 2),
            outings=tally.outings,
            door_uses=tally.door,
            meals=bin(tally.meals).count("1"),
            activity={
                room.name.lower(): count
                for room, count in zip(ROOMS, tally.room_counts(), strict=True)
            },
            sensors_offline=sorted(state.offline or ())[:100],  # the gateway's verdict at midnight
            away=bool(tally.flags & AWAY),
        )
        log.info("daily_summary", home=state.home, day=summary.day.isoformat())
        return summary

    # -- checkpoint -----------------------------------------------------------------------

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget the homes ``keep`` refuses (a single instance's state split by shard)."""
        self.tallies = {home: tally for home, tally in self.tallies.items() if keep(home)}

    def snapshot(self) -> bytes:
        return json.dumps(
            {home: base64.b64encode(packed).decode() for home, packed in self.tallies.items()}
        ).encode()

    def restore(self, data: bytes) -> None:
        loaded = json.loads(data)
        for home, packed in loaded.items():
            tally = base64.b64decode(packed)
            if len(tally) != _LAYOUT.size:  # saved by a version with other tallies
                log.warning("wellbeing_tally_dropped", home=home, size=len(tally))
                continue
            state = self.source.homes.get(home)
            # The same string object as the inactivity rule's key: 100 k copies add up.
            self.tallies[state.home if state else home] = tally


def _next_day(tally: Tally, state: HomeState, now: datetime) -> Tally:
    """Tomorrow's tally: the night under way carries over (its positions count from
    today's noon, tomorrow's origin); a gap of several days (detector down) starts from
    today."""
    today = state.local(now).toordinal()
    if today > tally.day + 1:
        fresh = _fresh(state, today, now)
        fresh.flags |= tally.flags & (SLEEP | OUT | BATH)
        return fresh
    return Tally(
        day=tally.day + 1,
        at=tally.at - 1440,
        flags=tally.flags & (SLEEP | OUT | BATH),
        bed=tally.bed,
        onset=tally.onset,
        wake=tally.wake,
        bath=tally.bath,
        bath_at_wake=tally.bath_at_wake,
        last_bath=tally.last_bath,
        in_bed_from=tally.in_bed_from,
    )


def _fresh(state: HomeState, day: int, now: datetime) -> Tally:
    """A first tally, begun at ``now``: after noon it counts the coming night."""
    at = coordinate(state, day, now)
    return Tally(day=day, at=at, flags=FROZEN if at >= NOON else 0)


def _hours_of_night(at: int) -> float | None:
    """Coordinate → hours from the previous midnight (23.5 is 23:30, 25.0 is 01:00)."""
    return round(12 + at / 60, 2) if at else None


def _next_boundary(tz: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(tz)
    midnight = datetime.combine(local.date(), time(), tzinfo=tz)
    for boundary in (midnight + timedelta(hours=12), midnight + timedelta(days=1)):
        if boundary > local:
            return boundary.astimezone(UTC)
    raise AssertionError("a day has a next noon or midnight")


def summary_point(summary: DailySummary, state: HomeState) -> SeriesPoint:
    """The day as one time-series point at its local midnight (numbers only: VictoriaMetrics
    stores no strings)."""
    fields: dict[str, float | int | bool | str] = {
        "in_bed_h": summary.in_bed_h,
        "night_bathroom": summary.night_bathroom,
        "out_h": summary.out_h,
        "outings": summary.outings,
        "door_uses": summary.door_uses,
        "meals": summary.meals,
        "sensors_offline": len(summary.sensors_offline),
        **{f"activity_{room}": count for room, count in summary.activity.items()},
    }
    if summary.sleep_onset_h is not None:
        fields["sleep_onset_h"] = summary.sleep_onset_h
    if summary.wake_h is not None:
        fields["wake_h"] = summary.wake_h
    start = datetime.combine(summary.day, time(), tzinfo=state.tz)
    return SeriesPoint(
        measurement="daily_summary", tags={"home": summary.home}, fields=fields, ts=start
    )

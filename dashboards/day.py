"""The resident's day from the stored activity: where they were, the night's sleep, the
bathroom visits. Pure functions over rows, so the rules are tested without a database.

Ambient sensors see movement, not people: a room is "occupied" from an event there until
an event in another room, or until ``QUIET_HOLD`` after its last event (after that the
resident is somewhere quiet, which the day does not guess); in bed or in a chair lasts
until the next event, since the pressure sensor still feels them. Sleep is the longest stretch of
the night spent in bed (bed sensor) or quiet after the last movement in the bedroom; short
trips (the toilet at 3 am) do not split it. Rooms are recognised by their registry name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dashboards.activity_store import Activity
from dashboards.schemas import HomeDay, RoomOccupancy, SleepPeriod, TimeSpan
from eldercare.models import EventType

#: How long a room stays "occupied" after its last event when nothing happens elsewhere.
QUIET_HOLD = timedelta(minutes=15)
#: Where a day's night begins (the evening before) and ends, in local time.
NIGHT_FROM = timedelta(hours=-6)  # 18:00 the day before
NIGHT_UNTIL = timedelta(hours=12)  # noon
#: In bed or quiet in the bedroom for less than this is a rest, not sleep.
MIN_SLEEP_PART = timedelta(minutes=20)
MIN_SLEEP = timedelta(hours=1)
#: Up for less than this (toilet, a glass of water) does not end the night.
NIGHT_TRIP = timedelta(hours=1)
#: Events that place a person in a room; hazards and "no motion" do not.
PRESENCE = frozenset(EventType) - {
    EventType.NO_MOTION,
    EventType.SMOKE,
    EventType.GAS,
    EventType.WATER_LEAK,
    EventType.HEARTBEAT,
}
#: A pressure sensor says someone is there until it says otherwise: no quiet hold.
SEATED = frozenset({EventType.BED_OCCUPIED, EventType.CHAIR_OCCUPIED})
BATHROOM_WORDS = ("bath", "toilet", "wc", "shower", "restroom", "卫生间", "浴室", "厕所", "洗手间")
BEDROOM_WORDS = ("bedroom", "sleep", "卧室")


def _named(room: str, words: Sequence[str]) -> bool:
    lowered = room.lower()
    return any(word in lowered for word in words)


def place(activity: Activity) -> str:
    """The room an event places the resident in: the registry's room, else the device id."""
    return activity.room or activity.device


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """Local midnight to midnight (23 or 25 hours across a DST change), in UTC like every
    time the API answers."""
    zone = ZoneInfo(tz)
    start, end = (datetime.combine(d, time(), zone) for d in (day, day + timedelta(days=1)))
    return start.astimezone(UTC), end.astimezone(UTC)


def fetch_window(day: date, tz: str) -> tuple[datetime, datetime]:
    """What the day needs from storage: its own 24 h and the evening before (the night)."""
    start, end = day_bounds(day, tz)
    return start + NIGHT_FROM, end


def occupancy(activities: Sequence[Activity], until: datetime) -> list[tuple[str, TimeSpan]]:
    """(room, span) in time order; ``until`` (now, or the end of the day) caps the last."""
    present = [a for a in activities if a.type in PRESENCE]
    spans: list[tuple[str, TimeSpan]] = []
    for index, activity in enumerate(present):
        room = place(activity)
        following = present[index + 1] if index + 1 < len(present) else None
        end = until if activity.type in SEATED else activity.at + QUIET_HOLD
        if following is not None:
            end = min(end, following.at)
        end = max(activity.at, min(end, until))
        last = spans[-1] if spans else None
        if last and last[0] == room and activity.at <= last[1].end:
            spans[-1] = (room, TimeSpan(start=last[1].start, end=max(last[1].end, end)))
        else:
            spans.append((room, TimeSpan(start=activity.at, end=end)))
    return spans


def _clip(span: TimeSpan, start: datetime, end: datetime) -> TimeSpan | None:
    clipped = TimeSpan(start=max(span.start, start), end=min(span.end, end))
    return clipped if clipped.end > clipped.start else None


def _rest_parts(activities: Sequence[Activity]) -> Iterable[tuple[TimeSpan, str]]:
    """Stretches in bed (bed_occupied → the next event that is not more of the same) and
    quiet after a bedroom event (→ the next event anywhere)."""
    present = [a for a in activities if a.type in PRESENCE]
    for index, activity in enumerate(present[:-1]):
        following = present[index + 1]
        if activity.type is EventType.BED_OCCUPIED:
            ended = next((a for a in present[index + 1 :] if a.type is EventType.BED_EMPTY), None)
            if ended is not None:
                yield TimeSpan(start=activity.at, end=ended.at), "bed"
        elif _named(place(activity), BEDROOM_WORDS) and activity.type is not EventType.BED_EMPTY:
            yield TimeSpan(start=activity.at, end=following.at), "bedroom"


def sleep_period(
    activities: Sequence[Activity], night_start: datetime, night_end: datetime
) -> SleepPeriod | None:
    """The longest night block of rest parts joined across short trips, if long enough."""
    parts = [
        (clipped, source)
        for span, source in _rest_parts(activities)
        if span.end - span.start >= MIN_SLEEP_PART
        and (clipped := _clip(span, night_start, night_end)) is not None
    ]
    parts.sort(key=lambda part: part[0].start)
    blocks: list[tuple[TimeSpan, set[str]]] = []
    for span, source in parts:
        if blocks and span.start - blocks[-1][0].end <= NIGHT_TRIP:
            joined, sources = blocks[-1]
            blocks[-1] = (
                TimeSpan(start=joined.start, end=max(joined.end, span.end)),
                sources | {source},
            )
        else:
            blocks.append((span, {source}))
    best = max(blocks, key=lambda block: block[0].end - block[0].start, default=None)
    if best is None or best[0].end - best[0].start < MIN_SLEEP:
        return None
    span, sources = best
    return SleepPeriod(
        start=span.start, end=span.end, source="bed" if "bed" in sources else "bedroom"
    )


def resident_day(
    home_id: str,
    day: date,
    tz: str,
    activities: Sequence[Activity],
    now: datetime,
    *,
    last_seen: Activity | None,
    truncated: bool,
) -> HomeDay:
    """The day view of ``activities`` (the ``fetch_window`` rows, oldest first)."""
    start, end = day_bounds(day, tz)
    rooms: dict[str, list[TimeSpan]] = {}
    visits = []
    for room, span in occupancy(activities, min(end, now)):
        clipped = _clip(span, start, end)
        if clipped is None:
            continue
        rooms.setdefault(room, []).append(clipped)
        if _named(room, BATHROOM_WORDS):
            visits.append(clipped)
    return HomeDay(
        home_id=home_id,
        day=day,
        timezone=tz,
        start=start,
        end=end,
        rooms=[
            RoomOccupancy(
                room=room,
                spans=spans,
                minutes=round(
                    sum((s.end - s.start for s in spans), timedelta()).total_seconds() / 60
                ),
            )
            for room, spans in sorted(rooms.items())
        ],
        sleep=sleep_period(activities, start + NIGHT_FROM, start + NIGHT_UNTIL),
        bathroom_visits=visits,
        events=sum(start <= a.at < end for a in activities),
        last_seen=last_seen.at if last_seen else None,
        last_seen_device=last_seen.device if last_seen else None,
        truncated=truncated,
    )

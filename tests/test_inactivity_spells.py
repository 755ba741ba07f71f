"""Quiet that is a spell between interruptions, judged by the spread of such spells as sleep
is (issue 20, round 7): an evening in the armchair with the seat mat occupied (homes A and B
watch the living room by it alone), and the quiet after an instant (a cupboard, a door, a
switch) in homes that see their resident only by what they touch."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from detector.activity.model import ActivityModel, ModelSettings
from detector.activity.prior import COLUMNS, QuietPrior
from detector.activity.rule import InactivityRule, InactivitySettings
from detector.activity.sensors import Place
from eldercare.models import Event, EventType

HOME = "h-chair"
#: A prior that knows nothing: the home's own evenings decide. The hour-of-day view's margin
#: these cases were built on (the shipped one is wider): what is tested is which quiets the
#: view judges at all, not its margin.
SETTINGS = ModelSettings(
    prior=QuietPrior(np.full((12, COLUMNS), np.nan, dtype=np.float32)), hourly_margin_h=0.5
)
#: The shipped hour-of-day view (``hourly_margin_h`` 1 h), with the prior that knows nothing.
VIEW_SETTINGS = ModelSettings(prior=SETTINGS.prior)
#: Ten evenings of television from 18:30, each sitting ended by a toilet visit at random.
SITTINGS_H = (0.5, 1.5, 0.8, 2.0, 0.4, 1.2, 0.6, 1.8, 0.9, 1.0)


def _learned(place: Place) -> ActivityModel:
    model = ActivityModel()
    for sitting in SITTINGS_H:
        model.learn_quiet(18.5, place, sitting)
    return model


def test_an_evening_in_the_armchair_is_judged_by_the_spread_of_its_sittings() -> None:
    """Fails if the seat is judged like any awake place: the longest of ten sittings (2 h)
    × 1.3 + 45 min is 3 h 21 min, and an evening with no toilet visit (18:10–21:32 in a
    simulated seat-mat home) was a false alarm at 21:16. The same quiets after the kitchen
    keep the tighter limit, and the hour-of-day view leaves the seat alone."""
    chair = _learned(Place.CHAIR).quiet_threshold_h(18.5, Place.CHAIR, SETTINGS)
    kitchen = _learned(Place.KITCHEN).quiet_threshold_h(18.5, Place.KITCHEN, SETTINGS)
    assert kitchen < 3.4
    assert 4.0 < chair < 6.0
    model = _learned(Place.CHAIR)
    model.days = 20.0
    assert model.unusual_now(18.5, Place.CHAIR, 21.7, 3.2, SETTINGS) is None
    kitchen_model = _learned(Place.KITCHEN)
    kitchen_model.days = 20.0
    assert kitchen_model.unusual_now(18.5, Place.KITCHEN, 21.7, 3.2, SETTINGS) is not None


def test_a_drawer_by_the_occupied_seat_keeps_the_chair_context() -> None:
    """Fails if a living-room contact while the seat mat says occupied moves the context to
    the awake living room (as the bedroom sensor seeing the sleeper turn keeps *bed*): the
    evening's quiet after it was judged by the living room's limit."""
    rule = InactivityRule(InactivitySettings(model=SETTINGS, default_tz="UTC"))
    at = datetime(2026, 3, 2, 19, 3, tzinfo=UTC)
    for seq, (device, kind, minutes) in enumerate(
        (
            ("seat-living", EventType.CHAIR_OCCUPIED, 0),
            ("drawer-living", EventType.DOOR_OPEN, 5),
            ("drawer-living", EventType.DOOR_CLOSE, 6),
        ),
        1,
    ):
        ts = at + timedelta(minutes=minutes)
        rule.on_event(Event(home=HOME, device=device, seq=seq, ts=ts, type=kind), ts)
    state = rule.homes[HOME]
    assert state.chair and state.last_place is Place.CHAIR and state.context_place is Place.CHAIR
    ts = at + timedelta(minutes=90)
    rule.on_event(
        Event(home=HOME, device="seat-living", seq=9, ts=ts, type=EventType.CHAIR_EMPTY), ts
    )
    ts += timedelta(minutes=1)
    rule.on_event(
        Event(home=HOME, device="drawer-living", seq=10, ts=ts, type=EventType.DOOR_OPEN), ts
    )
    assert rule.homes[HOME].last_place is Place.LIVING


def _signs(rule: InactivityRule) -> Callable[[str, EventType, datetime], None]:
    """Feeds ``rule`` signs of life of HOME, numbering them."""
    numbers = itertools.count(1)

    def sign(device: str, kind: EventType, at: datetime) -> None:
        rule.on_event(Event(home=HOME, device=device, seq=next(numbers), ts=at, type=kind), at)

    return sign


def _every_20_min(
    sign: Callable[[str, EventType, datetime], None],
    device: str,
    kind: EventType,
    since: datetime,
    until: datetime,
) -> None:
    """``device`` signs of life every 20 min from ``since`` until before ``until``."""
    while since < until:
        sign(device, kind, since)
        since += timedelta(minutes=20)


def test_quiet_after_a_cupboard_is_judged_by_the_spread_of_such_quiets() -> None:
    """Fails if the quiet after an instant (a cupboard, a door, a switch, a flush) is judged
    by a week's peak alone, like the quiet after someone seen moving: in a contacts-only home
    the next thing touched comes at random, and a longer gap than the week's longest was most
    of the remaining false alarms (round 7). After a motion sensor the limit stays as it was."""
    rule = InactivityRule(InactivitySettings(model=SETTINGS, default_tz="UTC"))
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    sign = _signs(rule)

    for day, gap in enumerate(SITTINGS_H):
        at = start + timedelta(days=day)
        sign("cupboard-kitchen", EventType.DOOR_OPEN, at)
        sign("cupboard-kitchen", EventType.DOOR_OPEN, at + timedelta(hours=gap))
        sign("pir-bedroom", EventType.MOTION, at + timedelta(hours=2.5))  # then elsewhere
    at = start + timedelta(days=len(SITTINGS_H))
    sign("cupboard-kitchen", EventType.DOOR_OPEN, at)
    after_cupboard = rule.homes[HOME].threshold_h
    restarted = InactivityRule(InactivitySettings(model=SETTINGS, default_tz="UTC"))
    restarted.restore(rule.snapshot())  # a restart keeps what the last sign was
    assert restarted.homes[HOME].after_instant
    assert restarted.homes[HOME].limit_h(SETTINGS) == after_cupboard
    sign("pir-kitchen", EventType.MOTION, at + timedelta(minutes=1))
    after_motion = rule.homes[HOME].threshold_h
    assert after_motion < 3.4 < 4.0 < after_cupboard


def _first_alert_after_a_cupboard(sitting_elsewhere: bool) -> tuple[float, str]:
    """Ten days (fewer than the 14 the place-by-place view needs) of: the hall every 20 min
    from 07:00, a kitchen cupboard at 10:00 and again after one of ``SITTINGS_H``, the hall
    again every 20 min until 21:00, then the bedroom, asleep till 07:00. With
    ``sitting_elsewhere``, the resident goes from the cupboard to sit on in the living room
    until 16:30 (one motion sign 10 min after it, then nothing). On day 11 nothing after
    the 10:00 cupboard: hours to the first alert, and its text."""
    rule = InactivityRule(InactivitySettings(model=VIEW_SETTINGS, default_tz="UTC"))
    sign = _signs(rule)
    start = datetime(2026, 3, 2, tzinfo=UTC)

    def hall(since: datetime, until: datetime) -> None:
        _every_20_min(sign, "pir-hall", EventType.MOTION, since, until)

    for day, gap in enumerate(SITTINGS_H):
        midnight = start + timedelta(days=day)
        hall(midnight + timedelta(hours=7), midnight + timedelta(hours=10))
        sign("cupboard-kitchen", EventType.DOOR_OPEN, midnight + timedelta(hours=10))
        back = midnight + timedelta(hours=10 + gap)
        sign("cupboard-kitchen", EventType.DOOR_OPEN, back)
        if sitting_elsewhere:
            sign("pir-living", EventType.MOTION, back + timedelta(minutes=10))
            back = midnight + timedelta(hours=16.5)
        hall(back + timedelta(minutes=10), midnight + timedelta(hours=21))
        sign("pir-bedroom", EventType.MOTION, midnight + timedelta(hours=21))
    last = start + timedelta(days=len(SITTINGS_H))
    hall(last + timedelta(hours=7), last + timedelta(hours=10))
    at = last + timedelta(hours=10)
    sign("cupboard-kitchen", EventType.DOOR_OPEN, at)
    assert rule.homes[HOME].model.days < VIEW_SETTINGS.hourly_after_days
    for minute in range(1, 600):
        alerts = rule.on_tick(at + timedelta(minutes=minute)).alerts
        if alerts:
            return minute / 60, alerts[0].explanation.en
    raise AssertionError("no alert")


def test_after_an_instant_the_hour_of_day_view_reads_every_place() -> None:
    """Fails if the quiet after a cupboard waits for its context's spread alone (round 7:
    contacts-only homes' day median 3.6–5.4 h), or if the view judges it by the hours of
    the cupboard's own place (the resident went on unseen: sitting on in the living room
    around 13:00 it was "longer than ever before" after the kitchen), or if it waits for
    the 14 days the place-by-place view needs. The kitchen's spread says 4 h 25 min; never
    quiet for more than 2 h around midday anywhere (1 h 52 min decayed), the home is alerted
    at 1 h 52 min × 1.3 + 1 h = 3 h 26 min; where the resident sits on elsewhere around
    midday, the spread stands."""
    alone_h, alone_text = _first_alert_after_a_cupboard(sitting_elsewhere=False)
    sitting_h, sitting_text = _first_alert_after_a_cupboard(sitting_elsewhere=True)
    assert "longer than ever before" in alone_text
    assert "anywhere at home" in alone_text
    assert 3.2 < alone_h < 3.7
    assert "expected at most" in sitting_text
    assert sitting_h > 4.2


def test_after_an_instant_the_cupboards_context_does_not_hold_the_hour_of_day_view_back() -> None:
    """Fails if the quiet after a cupboard must also outlast the cupboard's context (round
    10): after a kitchen cupboard at 14:12 the resident sat on unseen for 3 h each day, and
    that peak spills (× 0.85) to the quiet after the kitchen at 17:00, 2 h 48 min with the
    view's 15 min. Around 19:00 no quiet anywhere ever lasted more than 30 min (the hall
    at 18:12), so at 19:30, 2 h 30 min after the cupboard, the quiet is longer than any seen
    at this hour × 1.3 + 1 h (1 h 39 min): unusual. After someone seen in the kitchen the
    context still gates the view."""
    model = ActivityModel()
    for _ in range(10):
        model.learn_quiet(14.2, Place.KITCHEN, 3.0)
        model.learn_quiet(18.2, Place.OTHER, 0.5)
    model.days = 20.0
    seen = model.unusual_now(17.0, Place.KITCHEN, 19.5, 2.5, VIEW_SETTINGS, anywhere=True)
    assert seen == 0.5
    assert model.unusual_now(17.0, Place.KITCHEN, 19.5, 1.5, VIEW_SETTINGS, anywhere=True) is None
    assert model.unusual_now(17.0, Place.KITCHEN, 19.5, 2.5, VIEW_SETTINGS) is None
    assert model.unusual_now(17.0, Place.KITCHEN, 19.5, 2.9, VIEW_SETTINGS) is not None


def test_the_hour_of_day_view_reads_the_hours_around_now_not_two_hours_ahead() -> None:
    """Fails if the view reads the hour after the present one too (round 11). Hour h of the
    table is how long quiet had lasted by 1 h past it, so at 14:30 hours 13 and 14 say how
    long quiets had gone on by 14:00 and 15:00, and hour 15 by 16:00: a daily nap from
    14:00 to 16:30 had lasted 1 h by 15:00 and 2 h by 16:00. Quiet since a cupboard at
    11:30 is 3 h at 14:30, past 1 h × 1.3 + 1 h: unusual; read against 16:00 it waited
    for 2 h × 1.3 + 1 h (3 h 36 min). The nap itself stays ordinary at every hour."""
    model = ActivityModel()
    for _ in range(14):
        model.learn_quiet(14.0, Place.LIVING, 2.5)
    model.days = 20.0
    for anywhere in (True, False):
        seen = model.unusual_now(11.5, Place.LIVING, 14.5, 3.0, VIEW_SETTINGS, anywhere=anywhere)
        assert seen == 1.0
    for now_h in (14.9, 15.5, 15.9, 16.4):
        nap_h = now_h - 14.0
        assert model.unusual_now(14.0, Place.LIVING, now_h, nap_h, VIEW_SETTINGS) is None


def _days_coming_home(rule: InactivityRule, days: int) -> datetime:
    """``days`` days of a contacts-only home (round 14): a kitchen cupboard every 20 min from
    07:00 to 08:30 and from 13:00 to 21:00; in between, on even days, out through the front
    door at 08:30 and back at 09:00, the next thing touched (a kitchen cupboard) after one
    of ``SITTINGS_H`` and then every 20 min; on odd days a living-room cupboard at 09:00 and
    four hours sat on unseen. Ends coming home on the day after. Returns that day's 09:00."""
    sign = _signs(rule)
    start = datetime(2026, 3, 2, tzinfo=UTC)

    def kitchen(since: datetime, until: datetime) -> None:
        _every_20_min(sign, "cupboard-kitchen", EventType.DOOR_OPEN, since, until)

    def door(at: datetime) -> None:
        sign("door-front", EventType.DOOR_OPEN, at)
        sign("door-front", EventType.DOOR_CLOSE, at + timedelta(seconds=20))

    for day in range(days):
        midnight = start + timedelta(days=day)
        kitchen(midnight + timedelta(hours=7), midnight + timedelta(hours=8.5))
        if day % 2:
            sign("cupboard-living", EventType.DOOR_OPEN, midnight + timedelta(hours=9))
        else:
            door(midnight + timedelta(hours=8.5))
            door(midnight + timedelta(hours=9))
            gap = SITTINGS_H[day // 2 % len(SITTINGS_H)]
            kitchen(midnight + timedelta(hours=9 + gap), midnight + timedelta(hours=13))
        kitchen(midnight + timedelta(hours=13), midnight + timedelta(hours=21))
    last = start + timedelta(days=days)
    kitchen(last + timedelta(hours=7), last + timedelta(hours=8.5))
    door(last + timedelta(hours=8.5))
    door(last + timedelta(hours=9))
    return last + timedelta(hours=9)


def test_coming_home_through_the_front_door_is_an_instant_and_the_quiet_after_it_a_spell() -> None:
    """Fails if the front door is taken for presence (main before round 14): a door contact
    says the door moved, not where the resident is for as long as they are there, so the
    quiet after coming home is a spell to the next thing touched, like the quiet after a
    cupboard. Taken for someone seen in the hall it was judged by the peak of the quiets
    after coming home (2 h × 1.3 + 45 min, decayed over 20 days: 3 h 00 min), and after two
    weeks by the hall's own hours of the day too: four of the twelve false alarms of
    contacts-only homes on simulated seeds 31–34 (e.g. "around 17:00 at most 20 min so far"
    with the resident sitting on unseen). After ten homecomings the spread of those quiets
    (mean + 5 sd + 45 min) says 4 h 23 min; a restart keeps it."""
    rule = InactivityRule(InactivitySettings(model=SETTINGS, default_tz="UTC"))
    _days_coming_home(rule, 2 * len(SITTINGS_H))
    state = rule.homes[HOME]
    assert state.last_place is Place.OTHER and state.after_instant
    assert 4.2 < state.threshold_h < 4.6
    restarted = InactivityRule(InactivitySettings(model=SETTINGS, default_tz="UTC"))
    restarted.restore(rule.snapshot())
    assert restarted.homes[HOME].after_instant
    assert restarted.homes[HOME].limit_h(SETTINGS) == state.threshold_h


def test_sitting_on_unseen_after_coming_home_is_no_alarm_and_a_collapse_is_still_found() -> None:
    """Fails with the front door taken for presence (main before round 14 alerts 3 h 07 min
    after coming home, "expected at most 3 h 06 min"): on the day after 16 days (the
    hour-of-day view speaks, with every place's hours: the living room's four-hour
    sittings go on around midday every other day), 3 h 40 min sat on unseen after coming
    home raises nothing, and nothing touched at all after coming home is found by the
    spell's limit within 5 h."""
    for touched_after in (3 + 40 / 60, None):
        rule = InactivityRule(InactivitySettings(model=VIEW_SETTINGS, default_tz="UTC"))
        back = _days_coming_home(rule, 16)
        assert rule.homes[HOME].model.days >= VIEW_SETTINGS.hourly_after_days
        until = round((touched_after or 12) * 60)
        first = next(
            (
                minute / 60
                for minute in range(1, until)
                if rule.on_tick(back + timedelta(minutes=minute)).alerts
            ),
            None,
        )
        if touched_after is None:
            assert first is not None and 4.2 < first < 5.0
        else:
            assert first is None

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


def _first_alert_after_a_kitchen_sign(device: str, kind: EventType) -> tuple[float, str]:
    """20 days of a kitchen sign at 10:00 and another 0.5–1 h later, the resident then seen
    in the bedroom; on day 21 nothing after the 10:00 sign. Hours to the first alert, and
    its text."""
    rule = InactivityRule(InactivitySettings(model=SETTINGS, default_tz="UTC"))
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    sign = _signs(rule)

    for day in range(20):
        at = start + timedelta(days=day)
        gap = timedelta(hours=0.5 + 0.1 * (day % 6))
        sign(device, kind, at)
        sign(device, kind, at + gap)
        sign("pir-bedroom", EventType.MOTION, at + gap + timedelta(minutes=10))
    at = start + timedelta(days=20)
    sign(device, kind, at)
    for minute in range(1, 300):
        now = at + timedelta(minutes=minute)
        alerts = rule.on_tick(now).alerts
        if alerts:
            return minute / 60, alerts[0].explanation.en
    raise AssertionError("no alert")


def test_the_hour_of_day_view_leaves_a_spell_after_an_instant_alone() -> None:
    """Fails if the hour-of-day view judges the quiet after a cupboard: it raised most of the
    false alarms left on unseen simulated homes ("longer than ever before; around 15:00 at
    most 1 h 24 min so far" in contacts-only homes). After a motion sensor it still speaks
    first; after the cupboard the quiet waits for its context's spread."""
    seen_h, seen_text = _first_alert_after_a_kitchen_sign("pir-kitchen", EventType.MOTION)
    spell_h, spell_text = _first_alert_after_a_kitchen_sign("cupboard-kitchen", EventType.DOOR_OPEN)
    assert "longer than ever before" in seen_text
    assert "expected at most" in spell_text
    assert seen_h < spell_h

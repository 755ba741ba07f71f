"""A seat pressure mat (issue 20's homes A and B watch the living room by it alone): an
evening in the armchair is a long quiet with the seat occupied, judged as a rest, not as
the awake living room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from detector.activity.model import ActivityModel, ModelSettings
from detector.activity.prior import COLUMNS, QuietPrior
from detector.activity.rule import InactivityRule, InactivitySettings
from detector.activity.sensors import Place
from eldercare.models import Event, EventType

HOME = "h-chair"
#: A prior that knows nothing: the home's own evenings decide.
SETTINGS = ModelSettings(prior=QuietPrior(np.full((12, COLUMNS), np.nan, dtype=np.float32)))
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

"""The population prior (shipped, shrunk into each home, left out for the home scored) and
bathroom stays measured from presence only (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from detector.activity.home import HomeState
from detector.activity.homes_eval import population_prior
from detector.activity.model import ActivityModel, ModelSettings
from detector.activity.prior import HomeLimits, QuietPrior, shipped_prior
from detector.activity.rule import InactivityRule, InactivitySettings
from detector.activity.sensors import PLACE_COUNT, Place, classify
from eldercare.models import AlertKind, Event, EventType

HOME = "h-prior"
#: A prior that knows nothing: every context falls back to the general defaults.
EMPTY = QuietPrior(np.full((12, PLACE_COUNT), np.nan, dtype=np.float32))


def _first_afternoon(prior: QuietPrior, quiet_h: float) -> list[AlertKind]:
    """A home seen for the first time: busy in the kitchen 12:00–14:40, then a nap no
    sensor sees: nothing for ``quiet_h``."""
    rule = InactivityRule(InactivitySettings(model=ModelSettings(prior=prior), default_tz="UTC"))
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    for seq, minutes in enumerate(range(0, 161, 10), 1):
        at = start + timedelta(minutes=minutes)
        event = Event(home=HOME, device="pir-kitchen", seq=seq, ts=at, type=EventType.MOTION)
        rule.on_event(event, at)
    kinds: list[AlertKind] = []
    now, last = start + timedelta(minutes=160), start + timedelta(minutes=160)
    while now < last + timedelta(hours=quiet_h):
        now += timedelta(minutes=1)
        kinds += [alert.kind for alert in rule.on_tick(now).alerts]
    return kinds


def test_a_cold_start_home_with_the_prior_has_no_alarm_on_a_normal_first_afternoon() -> None:
    """Fails if the shipped prior is lost: without it, a new home gets the general default
    for quiet while awake, and a nap the population knows is normal is a false alarm."""
    settings = ModelSettings()
    nap_h = float(settings.prior.limit[7, Place.KITCHEN]) - 0.25
    assert nap_h > settings.unknown_awake_h + 0.25
    assert _first_afternoon(shipped_prior(), nap_h) == []
    assert AlertKind.INACTIVITY in _first_afternoon(EMPTY, nap_h)


def test_the_shipped_prior_is_from_the_development_homes_and_says_sleep_is_long() -> None:
    prior = shipped_prior()
    assert len(prior.homes) >= 16 and any(h.startswith("sim-") for h in prior.homes)
    model, settings = ActivityModel(), ModelSettings()
    assert model.quiet_threshold_h(1.0, Place.BEDROOM, settings) >= 8
    assert model.quiet_threshold_h(10.0, Place.KITCHEN, settings) <= 5


def test_the_prior_is_shrunk_into_the_home_as_days_pass() -> None:
    """Day 1 is the population's, day 8 is not a week's peak alone, day 100 is the home's."""
    settings = ModelSettings()
    population = float(settings.prior.limit[5, Place.KITCHEN])
    model = ActivityModel()
    fresh = model.quiet_threshold_h(10.5, Place.KITCHEN, settings)
    limits = {}
    for day in range(101):
        model.new_day(day, settings)
        model.learn_quiet(10.5, Place.KITCHEN, 0.5)
        limits[day] = model.quiet_threshold_h(10.5, Place.KITCHEN, settings)
    own = model.own_limit_h(10.5, Place.KITCHEN, settings)
    assert own is not None
    assert fresh == population
    assert own + 0.5 < limits[8] < population
    assert limits[100] < own + 0.3


def test_leave_one_home_out_builds_the_prior_without_the_home_scored() -> None:
    def home(name: str, group: str, hours: float) -> HomeLimits:
        return HomeLimits(name, group, np.full((12, PLACE_COUNT), hours, dtype=np.float32))

    homes = [home("a", "real", 2.0), home("b", "real", 3.0), home("s", "simulated", 6.0)]
    without_a = population_prior(homes, leave_out="a")
    assert without_a.homes == ("b", "s")
    assert float(without_a.limit[0, 0]) == 6.0  # upper quartile of b (½) and s (½)
    assert float(population_prior(homes).limit[0, 0]) == 6.0
    assert float(population_prior(homes, leave_out="s").limit[0, 0]) == 3.0
    restored = QuietPrior.from_json(without_a.to_json())
    assert restored.homes == without_a.homes and np.allclose(restored.limit, without_a.limit)


def test_bathroom_switches_are_instants_and_start_no_stay() -> None:
    """A tap, a flush or a cabinet says someone used it, not that they are still there: a
    bathroom switch firing now and then while the resident walks about unseen made hour-long
    "stays" and false bathroom_too_long alarms (MIT flats, contacts-only homes)."""
    assert not classify("68_SinkFaucetHot", None, "Bathroom").presence
    assert not classify("Flush_bathroom", None, "bathroom").presence
    assert not classify("Bathroom", None, "BathroomLight").presence
    assert classify("Bathroom", None, "Bathroom").presence  # a CASAS motion sensor
    assert classify("BathroomAToilet", None, "Bathroom").presence  # an item-area PIR
    settings = ModelSettings()
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    switches, motion = HomeState(HOME, UTC), HomeState(HOME, UTC)  # type: ignore[arg-type]
    for seq in range(1, 13):
        at = start + timedelta(minutes=5 * seq)
        for state, presence in ((switches, False), (motion, True)):
            state.activity(
                at,
                Place.BATHROOM,
                device="b",
                seq=seq,
                label="Bathroom",
                front_door=False,
                settings=settings,
                presence=presence,
            )
    assert switches.bath_since is None
    assert motion.bath_since == start + timedelta(minutes=5)


def test_a_switch_only_bathroom_raises_no_stay_alarm() -> None:
    rule = InactivityRule(InactivitySettings(default_tz="UTC"))
    start = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    alerts = []
    for seq in range(1, 40):  # a faucet used every 4 minutes for 2.5 hours
        at = start + timedelta(minutes=4 * seq)
        event = Event(
            home=HOME, device="SinkFaucet-Bathroom", seq=seq, ts=at, type=EventType.MOTION
        )
        rule.on_event(event, at)
        alerts += rule.on_tick(at).alerts
    assert AlertKind.BATHROOM_TOO_LONG not in {a.kind for a in alerts}

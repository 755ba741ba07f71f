"""The population prior (shipped, shrunk into each home, left out for the home scored) and
bathroom stays measured from presence only (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from detector.activity.home import HomeState
from detector.activity.model import ActivityModel, ModelSettings
from detector.activity.prior import BATH_INSTANT, COLUMNS, HomeLimits, QuietPrior, shipped_prior
from detector.activity.rule import InactivityRule, InactivitySettings
from detector.activity.sensors import Place, classify
from eldercare.models import AlertKind, Event, EventType
from evaluation.activity.homes_eval import (
    REAL,
    TWO_RESIDENT,
    discover,
    group_of,
    learned_limits,
    population_prior,
)

HOME = "h-prior"
#: A prior that knows nothing: every context falls back to the general defaults.
EMPTY = QuietPrior(np.full((12, COLUMNS), np.nan, dtype=np.float32))


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
        return HomeLimits(name, group, np.full((12, COLUMNS), hours, dtype=np.float32))

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


def _bathroom_days(rule: InactivityRule, days: int, start: datetime) -> int:
    """``days`` days of short bathroom visits: living room on the hour, the bathroom at :20,
    back in the living room at :26 (07:00–21:00). Returns the next seq."""
    seq = 1
    for day in range(days):
        for hour in range(7, 21):
            base = start + timedelta(days=day, hours=hour)
            for minutes, device in ((0, "pir-living"), (20, "pir-bathroom"), (26, "pir-living")):
                at = base + timedelta(minutes=minutes)
                event = Event(home=HOME, device=device, seq=seq, ts=at, type=EventType.MOTION)
                rule.on_event(event, at)
                rule.on_tick(at)
                seq += 1
    return seq


def test_short_bathroom_visits_are_evidence_and_a_silent_bathroom_is_noticed() -> None:
    """Fails if a bathroom visit that ends in another room within minutes is not counted as
    seen: then a home whose visits are all short never has evidence of its own, the
    population's limit (3.3 h here, as MIT flats pushed it) holds for ever, and a collapse
    by the toilet went unnoticed past 90 minutes (simulator scenario long_bathroom_stay)."""
    limit = np.full((12, COLUMNS), 3.34, dtype=np.float32)
    settings = InactivitySettings(model=ModelSettings(prior=QuietPrior(limit)), default_tz="UTC")
    rule = InactivityRule(settings)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    seq = _bathroom_days(rule, 7, start)
    entered = start + timedelta(days=7, hours=10, minutes=20)
    rule.on_event(
        Event(home=HOME, device="pir-bathroom", seq=seq, ts=entered, type=EventType.MOTION),
        entered,
    )
    raised = None
    for minute in range(1, 91):
        now = entered + timedelta(minutes=minute)
        if any(a.kind is AlertKind.BATHROOM_TOO_LONG for a in rule.on_tick(now).alerts):
            raised = minute
            break
    assert raised is not None and raised <= 75


def test_a_prior_worth_nothing_leaves_each_home_its_own_limit() -> None:
    """``prior_quiets=0`` (no prior at all) on a context never seen divided by zero."""
    settings = ModelSettings(prior_quiets=0.0)
    model = ActivityModel()
    assert model.quiet_threshold_h(10.5, Place.KITCHEN, settings) == settings.floor_h
    model.learn_quiet(10.5, Place.KITCHEN, 2.0)
    assert model.quiet_threshold_h(10.5, Place.KITCHEN, settings) == pytest.approx(
        2.0 * settings.margin_factor + settings.margin_h, abs=0.01
    )


def _recording(tmp_path: Path, bathroom: str, residents: str | None = None) -> Path:
    """Three days of a kitchen motion sensor and a bathroom device named ``bathroom``."""
    home = tmp_path / bathroom
    home.mkdir()
    lines = []
    for day in range(3):
        for hour in range(7, 22):
            stamp = f"2026-03-0{day + 2} {hour:02d}"
            lines += [
                f"{stamp}:00:00.000000 M001 Kitchen ON",
                f"{stamp}:20:00.000000 {bathroom} Bathroom ON",
                f"{stamp}:50:00.000000 M001 Kitchen ON",
            ]
    (home / "data").write_text("\n".join(lines) + "\n")
    if residents:
        (home / "SOURCE.txt").write_text(f"A test home.\nResidents: {residents} (test)\n")
    return home


def test_the_bathroom_prior_comes_only_from_homes_that_see_someone_in_there(
    tmp_path: Path,
) -> None:
    """Fails if homes whose bathroom only has switches (a flush, a tap) feed the prior's
    bathroom limit: quiet after a flush is mostly the resident gone on unseen, and those
    hours made a new home's bathroom limit 3.3 h. They have a column of their own, which a
    home is judged by while its bathroom context came from switches only."""
    switch, motion = discover([_recording(tmp_path, "Flush"), _recording(tmp_path, "M002")])
    switch_limits, motion_limits = learned_limits(switch).limit, learned_limits(motion).limit
    assert np.isnan(switch_limits[:, Place.BATHROOM]).all()
    assert not np.isnan(switch_limits[5, BATH_INSTANT])
    assert not np.isnan(motion_limits[5, Place.BATHROOM])
    assert np.isnan(motion_limits[:, BATH_INSTANT]).all()
    limit = np.full((12, COLUMNS), 1.0, dtype=np.float32)
    limit[:, BATH_INSTANT] = 4.0
    settings = ModelSettings(prior=QuietPrior(limit))
    model = ActivityModel()
    assert model.quiet_threshold_h(10.5, Place.BATHROOM, settings) == 1.0
    assert model.quiet_threshold_h(10.5, Place.BATHROOM, settings, instant=True) == 4.0
    assert model.quiet_threshold_h(10.5, Place.KITCHEN, settings, instant=True) == 1.0


def test_homes_of_two_are_their_own_group_and_not_in_the_prior(tmp_path: Path) -> None:
    alone = _recording(tmp_path, "M002", residents="1")
    pair = _recording(tmp_path, "M003", residents="TWO")
    unstated = _recording(tmp_path, "M004", residents="not stated")
    assert [group_of(p) for p in (alone, pair, unstated)] == [REAL, TWO_RESIDENT, REAL]
    homes = [learned_limits(source) for source in discover([alone, pair])]
    assert [h.group for h in homes] == [REAL, TWO_RESIDENT]
    assert population_prior(homes).homes == (homes[0].name,)


def test_a_recording_given_twice_is_one_home_and_never_in_its_own_prior(tmp_path: Path) -> None:
    """Fails if a home reached through its folder and by itself is two homes: scored twice,
    and with leave-one-home-out (by name) its twin would sit in its own prior."""
    home = _recording(tmp_path, "M002", residents="1")
    _recording(tmp_path, "M003", residents="1")
    sources = discover([tmp_path, home, Path(f"{tmp_path}/../{tmp_path.name}/M003")])
    assert sorted(s.name for s in sources) == [f"{tmp_path.name}/M002", f"{tmp_path.name}/M003"]
    limits = [learned_limits(source) for source in sources]
    assert population_prior(limits, leave_out=sources[0].name).homes == (sources[1].name,)


def test_an_outing_longer_than_the_home_has_seen_is_judged_by_the_population() -> None:
    """Fails if an outing is judged by the home's own few weeks of outings: out for half an
    hour every afternoon, then one longer afternoon out (a visit, a doctor) was a false
    alarm at 1.4 h (sim-03, ARAS). Out of home the population's limit (here 3 h) stands,
    by the outing's context and by the hour-of-day view alike."""
    limit = np.full((12, COLUMNS), 12.0, dtype=np.float32)
    limit[:, Place.OUT] = 3.0
    rule = InactivityRule(
        InactivitySettings(model=ModelSettings(prior=QuietPrior(limit)), default_tz="UTC")
    )
    start, seq = datetime(2026, 3, 2, tzinfo=UTC), 0

    def send(device: str, kind: EventType, at: datetime) -> None:
        nonlocal seq
        seq += 1
        rule.on_event(Event(home=HOME, device=device, seq=seq, ts=at, type=kind), at)

    def leave(at: datetime) -> None:
        send("pir-living", EventType.MOTION, at - timedelta(minutes=2))
        send("door-front", EventType.DOOR_OPEN, at)
        send("door-front", EventType.DOOR_CLOSE, at + timedelta(seconds=20))

    for day in range(20):
        out = start + timedelta(days=day, hours=16)
        leave(out)
        back = out + timedelta(minutes=30)
        send("door-front", EventType.DOOR_OPEN, back)
        send("door-front", EventType.DOOR_CLOSE, back + timedelta(seconds=20))
        for minutes in range(2, 300, 20):
            send("pir-living", EventType.MOTION, back + timedelta(minutes=minutes))
        rule.on_tick(back + timedelta(hours=5))
    out = start + timedelta(days=20, hours=16)
    leave(out)
    alerts: dict[int, list[AlertKind]] = {}
    for minute in range(1, 200):
        alerts[minute] = [a.kind for a in rule.on_tick(out + timedelta(minutes=minute)).alerts]
    first = min((m for m, kinds in alerts.items() if AlertKind.INACTIVITY in kinds), default=None)
    assert first is not None and 175 <= first <= 185

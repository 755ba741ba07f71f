"""The inactivity rule on hand-made days: context, wake-up, offline homes, restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dashboards.homes import set_mode
from dashboards.schemas import HomeModeName, HomeModeRequest
from detector.activity.findings import FINDINGS, Check, door_left_open
from detector.activity.home import HomeState
from detector.activity.home_config import Expectation, HomeConfig
from detector.activity.model import ActivityModel, ModelSettings
from detector.activity.registry import sync_from_registry
from detector.activity.routines import apply_routines, load_routines
from detector.activity.rule import InactivityRule, InactivitySettings
from detector.activity.sensors import Place, Role, classify
from detector.checkpoint import StateFile
from detector.device_health import DeviceHealthRule
from detector.service import Detector
from eldercare.clock import SimulatedClock
from eldercare.models import (
    Alert,
    AlertKind,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Outcome,
)
from eldercare.settings import Settings
from gateway.registry import DeviceSpec, register_home
from tests.verdicts import verdict

HOME = "h-0001"
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday; the homes below live in UTC
SETTINGS = InactivitySettings(default_tz="UTC")


class Home:
    """Feeds one home's events to a rule, numbering seq per device."""

    def __init__(self, rule: InactivityRule) -> None:
        self.rule = rule
        self.seq: dict[str, int] = {}

    def event(self, device: str, kind: EventType, at: datetime) -> Event:
        self.seq[device] = self.seq.get(device, 0) + 1
        return Event(home=HOME, device=device, seq=self.seq[device], ts=at, type=kind)

    def send(self, device: str, kind: EventType, at: datetime) -> list[Alert]:
        return self.rule.on_event(self.event(device, kind, at), at).alerts

    def tick_until(self, start: datetime, end: datetime) -> list[Alert]:
        alerts, now = [], start
        while now < end:
            now += timedelta(minutes=1)
            alerts.extend(self.rule.on_tick(now).alerts)
        return alerts


def routine_day(home: Home, day: datetime, wake_h: float = 7.0) -> None:
    """Asleep until wake_h, then kitchen and living room every 20 min until 22:00."""
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=wake_h - 0.2))
    t = day + timedelta(hours=wake_h)
    while t < day + timedelta(hours=22):
        room = "pir-kitchen" if t.hour % 3 == 0 else "pir-living"
        home.send(room, EventType.MOTION, t)
        t += timedelta(minutes=20)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=22, minutes=5))


def test_sensor_inference_finds_front_door_bed_and_rooms() -> None:
    assert classify("OutsideDoor", None, "FrontDoor", contact=True).role is Role.FRONT_DOOR
    assert classify("OutsideDoor", None, "Entry").role is Role.MOTION  # hall motion sensor
    assert classify("door-front", "door", "hall").role is Role.FRONT_DOOR
    assert classify("KitchenCabinet", None, "Kitchen", contact=True).role is Role.DOOR
    assert classify("BedPressure", None, "Bedroom").role is Role.BED
    assert classify("pir-living", "motion", "living_room").place is Place.LIVING
    assert classify("Bathroom", None, "Bathroom").place is Place.BATHROOM


def test_learning_follows_the_home_and_state_stays_small() -> None:
    model, settings = ActivityModel(), ModelSettings()
    for day in range(10):
        model.new_day(day, settings)
        model.learn_quiet(14.0, Place.LIVING, 2.0)
    learned = model.quiet_threshold_h(14.0, Place.LIVING, settings)
    assert 2.0 * settings.margin_factor <= learned <= 2.0 * settings.margin_factor + 1
    restored = ActivityModel.from_dict(model.to_dict())
    assert restored.quiet_threshold_h(14.0, Place.LIVING, settings) == learned
    assert model.nbytes < 2048


def test_sleep_as_irregular_as_toilet_visits_may_last_the_night_but_regular_sleep_may_not() -> None:
    """Spells between toilet visits that come at random (30 min one night, 4 h the next)
    mean the night without one, 8 h, is sleep too; a sleeper whose bedroom sensor sees a
    turn every half hour keeps a short limit at night, and the day keeps its peak."""
    model, restless, settings = ActivityModel(), ActivityModel(), ModelSettings()
    for day in range(16):
        for learner in (model, restless):
            learner.new_day(day, settings)
        model.learn_quiet(23.0, Place.BED, (0.5, 1.0, 2.0, 4.0)[day % 4])
        model.learn_quiet(14.0, Place.LIVING, (0.5, 1.0, 2.0, 4.0)[day % 4])
        for hour in (23.0, 0.5, 1.5, 3.0):
            restless.learn_quiet(hour, Place.BEDROOM, 0.5)
    assert model.quiet_threshold_h(23.0, Place.BED, settings) >= 8.0
    assert model.quiet_threshold_h(14.0, Place.LIVING, settings) <= 6.0
    assert restless.quiet_threshold_h(23.5, Place.BEDROOM, settings) <= 2.0


def test_a_few_early_weekend_mornings_do_not_set_the_weekend_wake_up_deadline() -> None:
    model, settings = ActivityModel(), ModelSettings()
    for hour in (6.8, 7.0, 6.9, 7.1, 6.7, 7.0, 6.9, 7.0, 6.8, 7.2):
        model.learn_wake(False, hour)
    for hour in (4.0, 5.0, 6.2, 6.0):  # two were walks to the toilet through the hall
        model.learn_wake(True, hour)
    assert model.wake_deadline_h(True, settings) >= 7.1 + settings.wake_tolerance_h


#: MIT flat 2's mornings (round 13), Monday 5 January to Saturday 17th: up at 04:15–06:00,
#: the weekends too (Saturday 10th 04:48, Sunday 11th 06:00, Saturday 17th 04:30).
EARLY_RISER = (5.7, 5.2, 5.0, 5.7, 4.2, 4.8, 6.0, 5.2, 5.3, 5.3, 5.8, 5.7, 4.5)


def test_a_sunday_lie_in_after_weekday_mornings_is_not_a_missed_wake_up() -> None:
    """Two weeks of mornings by 06:00 say when the week starts, not when a Sunday does:
    up at 07:27 that Sunday is a lie-in (MIT flat 2 raised ``no_wake_up`` at 07:15 on it),
    while a Sunday on which nobody gets up is still raised, by 08:30."""
    homes = [Home(InactivityRule(SETTINGS)) for _ in range(2)]
    for day, wake_h in enumerate(EARLY_RISER):
        for home in homes:
            routine_day(home, START + timedelta(days=day), wake_h)
    sunday = START + timedelta(days=len(EARLY_RISER))
    assert sunday.weekday() == 6
    lie_in, nobody = homes
    alerts = lie_in.tick_until(sunday, sunday + timedelta(hours=7, minutes=27))
    routine_day(lie_in, sunday, wake_h=7.45)
    alerts += lie_in.tick_until(
        sunday + timedelta(hours=7, minutes=27), sunday + timedelta(hours=12)
    )
    assert AlertKind.NO_WAKE_UP not in [a.kind for a in alerts]
    alerts = nobody.tick_until(sunday, sunday + timedelta(hours=12))
    [missed] = [a for a in alerts if a.kind is AlertKind.NO_WAKE_UP]
    assert (
        sunday + timedelta(hours=7, minutes=27) < missed.raised_at <= sunday + timedelta(hours=8.5)
    )


def test_a_weekend_with_mornings_of_its_own_adds_no_lie_in_and_weekdays_never() -> None:
    """The lie-in is for weekend mornings judged by weekday ones; the weekdays keep their
    deadline, and once seven weekend mornings are known their latest is the home's own."""
    model, settings = ActivityModel(), ModelSettings()
    for hour in (5.0, 5.5, 6.0, 5.0, 5.5, 6.0, 5.0, 5.5, 6.0, 5.5):
        model.learn_wake(False, hour)
    plain = 6.0 + settings.wake_tolerance_h + 0.5  # the latest, tolerance, spread
    assert abs(model.wake_deadline_h(False, settings) - plain) < 0.05
    assert abs(model.wake_deadline_h(True, settings) - (plain + 0.5)) < 0.05  # + latest - middle
    for hour in (6.5, 7.0, 7.5, 6.5, 7.0, 7.5, 7.0):
        model.learn_wake(True, hour)
    own = 7.5 + settings.wake_tolerance_h + 0.5
    assert abs(model.wake_deadline_h(True, settings) - own) < 0.05


def test_quiet_in_the_kitchen_raises_inactivity_with_an_explanation() -> None:
    home = Home(InactivityRule(SETTINGS))
    for day in range(8):
        routine_day(home, START + timedelta(days=day))
    day = START + timedelta(days=8)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    home.send("pir-kitchen", EventType.MOTION, day + timedelta(hours=9))
    alerts = home.tick_until(day + timedelta(hours=9), day + timedelta(hours=16))
    inactivity = [a for a in alerts if a.kind is AlertKind.INACTIVITY]
    assert len(inactivity) == 1
    delay = inactivity[0].raised_at - (day + timedelta(hours=9))
    assert timedelta(minutes=30) < delay <= timedelta(hours=3)
    assert "kitchen" in inactivity[0].explanation.en
    assert "厨房" in inactivity[0].explanation.zh_cn


def test_silence_after_the_bathroom_is_named_a_bathroom_emergency() -> None:
    home = Home(InactivityRule(SETTINGS))
    for day in range(8):
        routine_day(home, START + timedelta(days=day))
    day = START + timedelta(days=8)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    home.send("pir-bathroom", EventType.MOTION, day + timedelta(hours=9))
    alerts = home.tick_until(day + timedelta(hours=9), day + timedelta(hours=16))
    kinds = [a.kind for a in alerts]
    assert AlertKind.INACTIVITY not in kinds
    [bathroom] = [a for a in alerts if a.kind is AlertKind.BATHROOM_TOO_LONG]
    assert "bathroom" in bathroom.explanation.en
    assert "卫生间" in bathroom.explanation.zh_cn


def test_normal_nights_raise_nothing_and_a_missed_wake_up_raises_once() -> None:
    home = Home(InactivityRule(SETTINGS))
    alerts: list[Alert] = []
    for day in range(9):
        start = START + timedelta(days=day)
        routine_day(home, start)
        alerts += home.tick_until(start + timedelta(hours=22, minutes=5), start + timedelta(days=1))
    assert [a for a in alerts if a.raised_at > START + timedelta(days=7)] == []
    day = START + timedelta(days=9)
    alerts = home.tick_until(day, day + timedelta(hours=12))
    kinds = [a.kind for a in alerts]
    assert kinds.count(AlertKind.NO_WAKE_UP) == 1
    wake = next(a for a in alerts if a.kind is AlertKind.NO_WAKE_UP)
    assert day + timedelta(hours=7) < wake.raised_at <= day + timedelta(hours=9)


def test_a_home_first_heard_of_in_the_morning_gets_no_wake_up_alarm_that_day() -> None:
    """A detector started mid-morning without its state knows nothing of the night: a home
    heard only in the bedroom since then is not "not up" (it raised one per home, at once)."""
    home = Home(InactivityRule(SETTINGS))
    day = START + timedelta(days=3)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=9))
    alerts = home.tick_until(day + timedelta(hours=9), day + timedelta(hours=15))
    assert AlertKind.NO_WAKE_UP not in [a.kind for a in alerts]
    for alert in alerts:  # staff closed the day's silence alert (else it stands: one incident)
        home.rule.on_verdict(verdict(alert, Outcome.FALSE_ALARM), alert.raised_at)
    next_day = day + timedelta(days=1)  # the night after it was watched: judged as usual
    alerts = home.tick_until(day + timedelta(hours=15), next_day + timedelta(hours=12))
    assert [a.kind for a in alerts].count(AlertKind.NO_WAKE_UP) == 1

    in_bed = Home(InactivityRule(SETTINGS))  # but a bed mat that says "in bed" is seen
    in_bed.send("bed-main", EventType.BED_OCCUPIED, day + timedelta(hours=9))
    alerts = in_bed.tick_until(day + timedelta(hours=9), day + timedelta(hours=15))
    assert [a.kind for a in alerts].count(AlertKind.NO_WAKE_UP) == 1


def test_duplicates_and_too_late_events_do_not_move_the_context() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(hours=10)
    event = home.event("pir-kitchen", EventType.MOTION, at)
    rule.on_event(event, at)
    rule.on_event(event, at + timedelta(hours=1))  # redelivered: same (device, seq)
    state = rule.homes[HOME]
    assert state.last_ts == at
    home.send("pir-bedroom", EventType.MOTION, at + timedelta(minutes=30))
    late = home.event("pir-living", EventType.MOTION, at - timedelta(hours=1))
    rule.on_event(late, at + timedelta(minutes=31))
    assert state.last_place is Place.BEDROOM and state.late_dropped == 1


def test_a_rebooted_sensor_counting_from_one_again_is_still_heard() -> None:
    """Its numbers start again below the window: new life, not a redelivery; otherwise the
    home would look still for as long as the sensor took to reach its old count."""
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(hours=8)
    for minute in range(200):
        home.send("pir-kitchen", EventType.MOTION, at + timedelta(minutes=minute))
    home.seq["pir-kitchen"] = 0  # power cut: the sensor counts from 1 again
    rebooted = at + timedelta(hours=4)
    home.send("pir-kitchen", EventType.MOTION, rebooted)
    assert rule.homes[HOME].last_ts == rebooted
    home.send("pir-kitchen", EventType.MOTION, rebooted + timedelta(minutes=5))
    assert rule.homes[HOME].last_ts == rebooted + timedelta(minutes=5)


def test_a_door_open_delivered_after_its_close_does_not_leave_the_door_open() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(hours=10)
    home.send("pir-kitchen", EventType.MOTION, at - timedelta(minutes=5))
    opened = home.event("door-front", EventType.DOOR_OPEN, at)
    closed = home.event("door-front", EventType.DOOR_CLOSE, at + timedelta(seconds=20))
    rule.on_event(closed, at + timedelta(seconds=21))
    rule.on_event(opened, at + timedelta(seconds=40))  # held up in a queue, arrives late
    alerts = home.tick_until(at + timedelta(seconds=40), at + timedelta(minutes=40))
    assert AlertKind.DOOR_LEFT_OPEN not in [a.kind for a in alerts]
    left = at + timedelta(hours=1)  # a door really left open is still reported
    home.send("door-front", EventType.DOOR_OPEN, left)
    alerts = home.tick_until(left, left + timedelta(minutes=20))
    assert [a.kind for a in alerts] == [AlertKind.DOOR_LEFT_OPEN]


def test_silent_home_is_offline_not_inactive_and_one_silent_sensor_is_named() -> None:
    rule, health = InactivityRule(SETTINGS), DeviceHealthRule()
    home = Home(rule)
    at = START + timedelta(hours=9)
    for device in ("pir-kitchen", "pir-living"):
        status = DeviceStatus(home=HOME, device=device, state=DeviceState.ONLINE, ts=at)
        rule.on_status(status, at)
        health.on_status(status, at)
    home.send("pir-kitchen", EventType.MOTION, at)
    later = at + timedelta(minutes=10)
    offline = DeviceStatus(home=HOME, device="pir-living", state=DeviceState.OFFLINE, ts=later)
    rule.on_status(offline, later)
    assert [a.kind for a in health.on_status(offline, later).alerts] == [AlertKind.DEVICE_OFFLINE]
    alerts = home.tick_until(later, at + timedelta(hours=6))
    assert [a.kind for a in alerts] == [AlertKind.INACTIVITY]
    assert "pir-living" in alerts[0].explanation.en

    gone = DeviceStatus(home=HOME, device="pir-kitchen", state=DeviceState.OFFLINE, ts=later)
    rule2, health2 = InactivityRule(SETTINGS), DeviceHealthRule()
    home2 = Home(rule2)
    home2.send("pir-kitchen", EventType.MOTION, at)
    technician = []
    for device in ("pir-kitchen", "pir-living"):
        health2.on_status(DeviceStatus(home=HOME, device=device, state=DeviceState.ONLINE), at)
    for status in (offline, gone):
        rule2.on_status(status, later)
        technician += health2.on_status(status, later).alerts
    assert home2.tick_until(later, at + timedelta(hours=12)) == []
    assert [a.kind for a in technician] == [AlertKind.DEVICE_OFFLINE, AlertKind.HOME_OFFLINE]


def test_holiday_mode_silences_routine_alerts_until_it_ends() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(hours=9)
    home.send("door-front", EventType.DOOR_OPEN, at)
    home.send("door-front", EventType.DOOR_CLOSE, at + timedelta(seconds=20))
    until = at + timedelta(days=3)
    rule.set_away(HOME, until, "in hospital")
    assert home.tick_until(at, until) == []
    after = home.tick_until(until, until + timedelta(hours=12))
    assert [a.kind for a in after] == [AlertKind.INACTIVITY]  # expected back, and was not


def test_night_outing_raises_wandering_and_open_door_is_reported() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    night = START + timedelta(hours=23)
    home.send("pir-bedroom", EventType.MOTION, night)
    home.send("door-front", EventType.DOOR_OPEN, night + timedelta(minutes=5))
    alerts = home.tick_until(night + timedelta(minutes=5), night + timedelta(hours=1))
    kinds = [a.kind for a in alerts]
    assert kinds.count(AlertKind.NIGHT_WANDERING) == 1
    assert kinds.count(AlertKind.DOOR_LEFT_OPEN) == 1


async def test_restart_resumes_the_wake_up_timer_and_alerts_once(tmp_path: Path) -> None:
    """Kill the detector mid-morning, restore the checkpoint: no-wake-up fires once, on time."""
    clock = SimulatedClock(START)
    settings = Settings(data_dir=tmp_path)
    rule = InactivityRule(SETTINGS)
    first = Detector(settings, clock, rules=[rule])
    home = Home(rule)
    topics = settings.topics
    for day in range(8):
        start = START + timedelta(days=day)
        routine_day(home, start)  # learning, fed straight to the rule
    day = START + timedelta(days=8)
    clock.set(day + timedelta(hours=6))
    assert [o for o in first.tick()] == []
    state = StateFile(tmp_path / "detector-state.json")
    state.save(first.rules)  # then the process dies

    second_rule = InactivityRule(SETTINGS)
    second = Detector(settings, clock, rules=[second_rule])
    assert state.load(second.rules)
    raised: list[tuple[datetime, str]] = []
    while clock.now() < day + timedelta(hours=12):
        clock.set(clock.now() + timedelta(seconds=10))
        for message in second.tick():
            alert = Alert.model_validate_json(message.payload)
            assert message.topic == topics.home_alerts(HOME)
            raised.append((alert.raised_at, alert.kind))
        if raised and len(raised) == 1 and clock.now().minute == 0:
            state.save(second.rules)
    wake = [at for at, kind in raised if kind is AlertKind.NO_WAKE_UP]
    assert len(wake) == 1
    assert day + timedelta(hours=7) < wake[0] <= day + timedelta(hours=9)

    third = Detector(settings, clock, rules=[InactivityRule(SETTINGS)])
    state.load(third.rules)  # a second restart after the alert: nothing again
    clock.set(clock.now() + timedelta(minutes=5))
    assert not [m for m in third.tick() if b"no_wake_up" in m.payload]


async def test_registry_tells_the_rule_rooms_roles_and_time_zone(engine: AsyncEngine) -> None:
    devices = [
        DeviceSpec("door-1", "door", "entrance"),
        DeviceSpec("mat-1", "bed", "bedroom"),
        DeviceSpec("pir-2", "motion", "kitchen"),
    ]
    await register_home(engine, HOME, devices, now=START)
    rule = InactivityRule()
    assert await sync_from_registry(engine, rule, START) == 3
    assert rule.directory.lookup(HOME, "door-1").role is Role.FRONT_DOOR
    assert rule.directory.lookup(HOME, "mat-1").role is Role.BED
    assert rule.directory.lookup(HOME, "pir-2").place is Place.KITCHEN
    home = Home(rule)
    home.send("pir-2", EventType.MOTION, datetime(2026, 1, 5, 1, 0, tzinfo=UTC))
    assert rule.homes[HOME].context_hour == 9.0  # Asia/Shanghai, the registry's default


async def test_away_set_by_staff_on_the_dashboard_silences_the_home_until_set_back(
    engine: AsyncEngine,
) -> None:
    """The dashboard writes ``home_modes``; the detector reads it every minute."""
    devices = [DeviceSpec("pir-kitchen", "motion", "kitchen"), DeviceSpec("door-1", "door", "hall")]
    await register_home(engine, HOME, devices, now=START)
    rule = InactivityRule()
    home = Home(rule)
    seen = START + timedelta(hours=1)
    home.send("pir-kitchen", EventType.MOTION, seen)

    async def staff_sets(mode: HomeModeName, at: datetime) -> None:
        async with AsyncSession(engine) as session, session.begin():
            await set_mode(session, HOME, HomeModeRequest(mode=mode, note="肺炎"), "staff", at)
        await sync_from_registry(engine, rule, at)

    await staff_sets(HomeModeName.HOSPITAL, seen + timedelta(minutes=30))
    await sync_from_registry(engine, rule, seen + timedelta(hours=5))  # re-read: no change
    back = seen + timedelta(days=2)
    assert home.tick_until(seen, back) == []
    await staff_sets(HomeModeName.HOME, back)
    alerts = home.tick_until(back, back + timedelta(hours=12))
    # Expected home through the front door from now on; nobody came: one alert, not at once.
    assert [a.kind for a in alerts] == [AlertKind.INACTIVITY]
    assert alerts[0].raised_at - back > timedelta(hours=2)
    assert "front door" in alerts[0].explanation.en


def test_family_expectation_kitchen_by_ten_is_checked_once_a_day() -> None:
    rule = InactivityRule(SETTINGS)
    rule.configure(
        HOME,
        HomeConfig(
            tz="UTC",
            expectations=[Expectation("kitchen by 10:00", frozenset({Place.KITCHEN}), 10.0)],
        ),
    )
    home = Home(rule)
    day = START + timedelta(days=1)
    home.send("pir-living", EventType.MOTION, day + timedelta(hours=7))
    home.send("pir-living", EventType.MOTION, day + timedelta(hours=9, minutes=50))
    alerts = home.tick_until(day + timedelta(hours=9, minutes=50), day + timedelta(hours=11))
    assert [a.explanation.en for a in alerts if "kitchen by 10:00" in a.explanation.en] != []
    assert len([a for a in alerts if "kitchen by 10:00" in a.explanation.en]) == 1
    assert all(a.raised_at >= day + timedelta(hours=10) for a in alerts)


def test_a_familys_routine_file_is_checked_and_a_bad_or_removed_file_changes_nothing_else(
    tmp_path: Path,
) -> None:
    """``<home>.yaml`` in the routines folder: read every minute, typos logged and skipped."""
    (tmp_path / f"{HOME}.yaml").write_text(
        'wake_by: "08:00"\nexpect:\n  - {name: 厨房 10 点前, places: [kitchen], by: "10:00"}\n'
    )
    (tmp_path / "h-0002.yaml").write_text("expect:\n  - {name: x, places: [garage], by: 9}\n")
    routines = load_routines(tmp_path)
    assert list(routines) == [HOME]  # the garage is no place we know: that file is skipped
    rule = InactivityRule(SETTINGS)
    apply_routines(rule, routines, set())
    assert rule.configs[HOME].wake_by_h == 8.0 and rule.configs[HOME].tz == "UTC"

    home = Home(rule)

    def expectation_alerts(day: datetime) -> list[Alert]:
        home.send("pir-living", EventType.MOTION, day + timedelta(hours=7))
        alerts = home.tick_until(day + timedelta(hours=7), day + timedelta(hours=11))
        return [a for a in alerts if "厨房 10 点前" in a.explanation.zh_cn]

    [missed] = expectation_alerts(START + timedelta(days=1))
    assert missed.raised_at >= START + timedelta(days=1, hours=10)
    (tmp_path / f"{HOME}.yaml").unlink()  # the family no longer asks for it
    apply_routines(rule, load_routines(tmp_path), set(routines))
    assert rule.configs[HOME].expectations == [] and rule.configs[HOME].wake_by_h is None
    assert expectation_alerts(START + timedelta(days=2)) == []


def test_back_early_from_holiday_keeps_the_home_context() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(hours=9)
    home.send("door-front", EventType.DOOR_OPEN, at)
    home.send("door-front", EventType.DOOR_CLOSE, at + timedelta(seconds=20))
    rule.set_away(HOME, at + timedelta(days=3), "with family")
    back = at + timedelta(days=2)
    home.send("door-front", EventType.DOOR_OPEN, back)
    home.send("pir-kitchen", EventType.MOTION, back + timedelta(minutes=1))
    home.send("pir-kitchen", EventType.MOTION, back + timedelta(minutes=2))
    home.tick_until(back + timedelta(minutes=2), at + timedelta(days=3, minutes=5))
    state = rule.homes[HOME]
    assert state.away_until is None and state.last_place is Place.KITCHEN


def _day_with_a_nap(home: Home, day: datetime) -> None:
    """Up at 7, something every 20 min, and a nap in the living room from 12:00 to 14:10."""
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    t = day + timedelta(hours=7)
    while t < day + timedelta(hours=22):
        if not day + timedelta(hours=12) < t < day + timedelta(hours=14, minutes=10):
            room = "pir-kitchen" if t.hour in (8, 11, 18) else "pir-living"
            home.send(room, EventType.MOTION, t)
        t += timedelta(minutes=20)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=22, minutes=5))


def _collapse_after_the_nap(learned_days: int) -> tuple[list[Alert], timedelta]:
    """Learn ``learned_days`` days with a nap, then fall silent at 14:30 in the living room."""
    home = Home(InactivityRule(SETTINGS))
    for day in range(learned_days):
        _day_with_a_nap(home, START + timedelta(days=day))
    day = START + timedelta(days=learned_days)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    home.send("pir-kitchen", EventType.MOTION, day + timedelta(hours=14, minutes=10))
    last = day + timedelta(hours=14, minutes=30)
    home.send("pir-living", EventType.MOTION, last)
    alerts = home.tick_until(last, day + timedelta(hours=21))
    inactivity = [a for a in alerts if a.kind is AlertKind.INACTIVITY]
    assert len(inactivity) == 1, inactivity
    return inactivity, inactivity[0].raised_at - last


def test_the_hours_of_the_day_shorten_the_wait_once_learned_without_false_alarms() -> None:
    """The two-hour contexts let the 12:00 nap spill into quiet after it (14–16), which
    normally ends within 20 minutes. After twice the learning days the hour-of-day view says
    that quiet at 15:00–17:00 there has never lasted long, and the alert comes sooner."""
    _, early = _collapse_after_the_nap(learned_days=8)
    [alert], learned = _collapse_after_the_nap(learned_days=20)
    assert early > timedelta(hours=3)  # the nap's spill: only the two-hour context speaks
    assert timedelta(hours=1) < learned < timedelta(hours=2, minutes=30)
    assert "longer than ever before" in alert.explanation.en
    assert "比此前任何一次都长" in alert.explanation.zh_cn

    home = Home(InactivityRule(SETTINGS))
    for day in range(24):  # the nap itself, every day, is never an alarm
        _day_with_a_nap(home, START + timedelta(days=day))
        assert home.tick_until(START + timedelta(days=day), START + timedelta(days=day + 1)) == []


def test_coming_home_through_a_door_taken_for_leaving_is_home_once_they_keep_moving() -> None:
    """A departure the sensors missed makes the next door use look like leaving; the person
    then walks about for half an hour. Before, each motion was "within 90 s of the last
    sign" and the home stayed "out" (with the outing's long limit) until they sat still."""
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(days=1, hours=10)
    home.send("pir-living", EventType.MOTION, at)
    home.send("door-front", EventType.DOOR_OPEN, at + timedelta(minutes=40))
    home.send("door-front", EventType.DOOR_CLOSE, at + timedelta(minutes=40, seconds=10))
    assert rule.homes[HOME].last_place is Place.OUT
    moving = at + timedelta(minutes=40, seconds=15)
    for step in range(60):
        room = "pir-kitchen" if step % 2 else "pir-living"
        home.send(room, EventType.MOTION, moving + timedelta(seconds=30 * step))
        if step == 8:  # four minutes in
            assert rule.homes[HOME].last_place is not Place.OUT
    assert rule.homes[HOME].last_place is Place.KITCHEN


def test_leaving_again_soon_after_coming_home_is_leaving_once_the_door_was_shut() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    at = START + timedelta(days=1, hours=10)
    home.send("pir-living", EventType.MOTION, at)
    home.send("door-front", EventType.DOOR_OPEN, at + timedelta(minutes=5))  # out
    home.send("door-front", EventType.DOOR_CLOSE, at + timedelta(minutes=5, seconds=10))
    back = at + timedelta(minutes=40)
    home.send("door-front", EventType.DOOR_OPEN, back)  # home again
    home.send("door-front", EventType.DOOR_CLOSE, back + timedelta(seconds=15))
    assert rule.homes[HOME].last_place is not Place.OUT  # closing behind them is arriving
    home.send("pir-living", EventType.MOTION, back + timedelta(seconds=40))
    home.send("door-front", EventType.DOOR_OPEN, back + timedelta(minutes=2))  # forgot the keys
    home.send("door-front", EventType.DOOR_CLOSE, back + timedelta(minutes=2, seconds=10))
    assert rule.homes[HOME].last_place is Place.OUT


def contacts_only_day(
    home: Home, day: datetime, bed_h: float, wake_h: float = 7.0, *, flush: bool = True
) -> None:
    """A flat with door and cupboard contacts only: nothing in the bedroom reports sleep.
    The kitchen cupboard every 40 min while up, a flush at bedtime and at wake-up."""
    home.send("flush-bathroom", EventType.MOTION, day + timedelta(hours=wake_h))
    t = day + timedelta(hours=wake_h, minutes=10)
    while t < day + timedelta(hours=bed_h - 0.2):
        home.send("cupboard-kitchen", EventType.DOOR_OPEN, t)
        t += timedelta(minutes=40)
    if flush:
        home.send("flush-bathroom", EventType.MOTION, day + timedelta(hours=bed_h))


def test_contacts_only_home_goes_to_bed_earlier_than_usual_without_an_alarm() -> None:
    """Home C of issue 20: bedtimes 22:00–23:30 after a flush, nothing in the bedroom.
    Going to bed at 21:40 one night straight from the kitchen leaves the kitchen's evening
    context, where quiet never lasted more than 40 min; judged as the night (the bedroom's
    context: this home's learned nights), it is sleep."""
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    for day in range(10):
        contacts_only_day(home, START + timedelta(days=day), (22.0, 23.5, 22.7, 23.0)[day % 4])
    state = rule.homes[HOME]
    assert not state.sees_sleep(START + timedelta(days=10))
    assert state.model.settling(21.75, ModelSettings())
    assert not state.model.settling(20.0, ModelSettings())
    day = START + timedelta(days=10)
    contacts_only_day(home, day, 21.0, flush=False)
    home.send("cupboard-kitchen", EventType.DOOR_OPEN, day + timedelta(hours=21, minutes=40))
    assert state.context_place is Place.BEDROOM and state.last_place is Place.KITCHEN
    alerts = home.tick_until(day + timedelta(hours=21.6), day + timedelta(days=1, hours=6.9))
    assert alerts == []


def test_a_flush_before_the_usual_wake_up_is_still_the_night_in_a_contacts_only_home() -> None:
    """Fails if the inferred night ends at 05:00 whatever the home: up at 07:00 every day,
    a flush at 05:40 on the way back to bed was judged by the bathroom's limits."""
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    settings = ModelSettings()
    assert not ActivityModel().settling(5.67, settings)  # nothing learned: until 05:00
    for day in range(10):
        contacts_only_day(home, START + timedelta(days=day), 22.5)
    state = rule.homes[HOME]
    assert state.model.settling(5.67, settings) and not state.model.settling(6.5, settings)
    home.send("flush-bathroom", EventType.MOTION, START + timedelta(days=10, hours=5, minutes=40))
    assert state.context_place is Place.BEDROOM and state.last_place is Place.BATHROOM


def test_a_home_that_sees_its_bedroom_keeps_the_place_it_saw() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    for day in range(3):
        routine_day(home, START + timedelta(days=day))
        home.send("pir-bedroom", EventType.MOTION, START + timedelta(days=day + 1, hours=3))
    evening = START + timedelta(days=3, hours=21, minutes=50)
    home.send("pir-kitchen", EventType.MOTION, evening)
    state = rule.homes[HOME]
    assert state.sees_sleep(evening)
    assert state.context_place is Place.KITCHEN
    assert not state.sees_sleep(evening + timedelta(days=8))  # a bedroom sensor gone quiet


def test_a_bed_mat_occupied_through_the_night_sees_sleep() -> None:
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    night = START + timedelta(hours=22, minutes=30)
    home.send("pir-kitchen", EventType.MOTION, night - timedelta(minutes=20))
    home.send("bed-bedroom", EventType.BED_OCCUPIED, night)
    assert not rule.homes[HOME].sees_sleep(night)
    morning = night + timedelta(hours=8)
    home.send("bed-bedroom", EventType.BED_EMPTY, morning)
    assert rule.homes[HOME].sees_sleep(morning)


def test_a_bedroom_used_only_in_the_evening_does_not_see_sleep_and_bed_is_inferred() -> None:
    """Fails if a bedroom that reports at all counts as seeing sleep: the MIT flats switch
    the bedroom light (or open a drawer) in the evening, never in the night, and going to
    bed early straight from the kitchen was judged by the kitchen's evening (quiet there
    never lasted more than 40 min here): a false alarm each early night."""
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    for day in range(10):
        start = START + timedelta(days=day)
        bed_h = (22.0, 23.5, 22.7, 23.0)[day % 4]
        contacts_only_day(home, start, bed_h)
        home.send("lightswitch-bedroom", EventType.MOTION, start + timedelta(hours=bed_h - 1.5))
    state = rule.homes[HOME]
    day = START + timedelta(days=10)
    assert not state.sees_sleep(day)
    contacts_only_day(home, day, 21.0, flush=False)
    home.send("cupboard-kitchen", EventType.DOOR_OPEN, day + timedelta(hours=21, minutes=40))
    assert state.context_place is Place.BEDROOM and state.last_place is Place.KITCHEN
    alerts = home.tick_until(day + timedelta(hours=21.6), day + timedelta(days=1, hours=6.9))
    assert alerts == []


def television_evening(home: Home, day: datetime, *, collapse: bool = False) -> None:
    """A contacts-only day whose evening is 2 h 15 min of television from 19:00 with
    nothing touched, then the kitchen again, and bed at 22:30 after a flush."""
    contacts_only_day(home, day, 19.0, flush=False)
    home.send("cupboard-kitchen", EventType.DOOR_OPEN, day + timedelta(hours=19))
    if collapse:
        return
    for after_tv in (timedelta(hours=21, minutes=15), timedelta(hours=21, minutes=55)):
        home.send("cupboard-kitchen", EventType.DOOR_OPEN, day + after_tv)
    home.send("flush-bathroom", EventType.MOTION, day + timedelta(hours=22, minutes=30))


def test_a_television_evening_is_not_a_bedtime_and_the_evening_stays_watched() -> None:
    """Fails if a long quiet that ends in the evening counts as a bedtime: this contacts-only
    home's 2 h of television from 19:00 every evening made its night begin at 18:30, so a
    collapse after the 19:00 cupboard was judged as a night and found in the morning. Only a
    quiet that runs past midnight is a night's start; the evening keeps its own limit (the
    television's 2 h 15 min, learned) and the collapse is found that evening."""
    rule = InactivityRule(SETTINGS)
    home = Home(rule)
    for day in range(10):
        television_evening(home, START + timedelta(days=day))
    state, settings = rule.homes[HOME], ModelSettings()
    assert not state.sees_sleep(START + timedelta(days=10))
    assert state.model.settling(22.4, settings) and not state.model.settling(19.5, settings)
    day = START + timedelta(days=10)
    television_evening(home, day, collapse=True)
    assert state.context_place is Place.KITCHEN
    alerts = home.tick_until(day + timedelta(hours=19), day + timedelta(days=1, hours=6.9))
    assert [a.kind for a in alerts] == [AlertKind.INACTIVITY]
    assert alerts[0].raised_at < day + timedelta(hours=24)  # that evening, not the morning


def test_bedtimes_survive_a_restart() -> None:
    model, settings = ActivityModel(), ModelSettings()
    for hour in (23.0, 23.5, 0.5, 22.5):
        model.learn_bedtime(hour, 6.0, settings)
    model.learn_bedtime(20.0, 1.0, settings)  # too short to be a night
    model.learn_bedtime(19.0, 2.5, settings)  # television until 21:30: an evening, not a night
    restored = ActivityModel.from_dict(model.to_dict())
    assert restored.settling(22.6, settings) and not restored.settling(22.4, settings)


def test_each_finding_is_a_function_of_the_state_and_the_check_and_raises_once() -> None:
    """The findings stand alone (no rule object): a door open past its limit is found once
    per opening, and a new opening is a new finding; nothing else is due. Fails if a finding
    leans on the rule again or forgets its pending key."""
    state = HomeState(home="h-find", tz=ZoneInfo("UTC"))
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    check = Check(opened + timedelta(minutes=10), HomeConfig(tz="UTC"), ModelSettings())
    state.last_ts, state.threshold_h = opened, 3.0  # the resident went out a moment ago
    assert all(finding(state, check) is None for finding in FINDINGS)  # nothing due yet
    state.door_open_since, state.door_device = opened, "front"
    assert door_left_open(state, check) is None  # 10 min: within the 15 allowed
    later = Check(opened + timedelta(minutes=16), check.config, check.model)
    alert = door_left_open(state, later)
    assert alert is not None and alert.kind is AlertKind.DOOR_LEFT_OPEN
    assert alert.evidence[0].device == "front"
    assert door_left_open(state, later) is None  # once per opening
    state.door_open_since = opened + timedelta(hours=1)
    again = Check(opened + timedelta(hours=1, minutes=20), check.config, check.model)
    assert door_left_open(state, again) is not None

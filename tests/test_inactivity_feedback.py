"""The staff's verdict reaches the inactivity model: a false alarm widens the context that
raised it, only that one, bounded, decaying, undone by a real alert, and checkpointed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from detector.activity import feedback
from detector.activity.feedback import CAP, HALF_LIFE_DAYS, STEP, Widening, widened
from detector.activity.rule import InactivityRule
from detector.activity.sensors import Place
from detector.service import Detector
from eldercare.clock import SimulatedClock
from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertUpdate,
    EventType,
    Outcome,
)
from eldercare.settings import Settings
from tests.test_inactivity import HOME, SETTINGS, START, Home, routine_day
from tests.verdicts import verdict

MODEL = SETTINGS.model
KITCHEN_9 = (9.0, Place.KITCHEN)
#: Contexts the kitchen verdict must leave alone: another place at the same hour, the same
#: place at another hour.
OTHERS = ((9.0, Place.LIVING), (15.0, Place.KITCHEN))


def quiet_after_the_kitchen(home: Home, day: datetime, until_h: float = 16) -> list[Alert]:
    """Up at 06:50, in the kitchen at 09:00, then nothing until ``until_h``."""
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    home.send("pir-kitchen", EventType.MOTION, day + timedelta(hours=9))
    alerts = home.tick_until(day + timedelta(hours=9), day + timedelta(hours=until_h))
    return [a for a in alerts if a.kind is AlertKind.INACTIVITY]


def learned_home() -> Home:
    home = Home(InactivityRule(SETTINGS))
    for day in range(8):
        routine_day(home, START + timedelta(days=day))
    return home


def limits(rule: InactivityRule) -> dict[tuple[float, Place], float]:
    model = rule.homes[HOME].model
    return {ctx: model.quiet_threshold_h(*ctx, MODEL) for ctx in (KITCHEN_9, *OTHERS)}


def test_a_false_alarm_widens_the_context_that_raised_it_and_no_other() -> None:
    home = learned_home()
    [alert] = quiet_after_the_kitchen(home, START + timedelta(days=8))
    assert alert.context == {"rule": "quiet", "block": 4, "place": "kitchen", "state": "home"}
    before = limits(home.rule)

    home.rule.on_verdict(verdict(alert, Outcome.FALSE_ALARM), alert.raised_at)
    after = limits(home.rule)
    assert after[KITCHEN_9] == pytest.approx(before[KITCHEN_9] * STEP, rel=1e-3)
    assert [after[c] for c in OTHERS] == [before[c] for c in OTHERS]
    # The quiet going on now is judged by the widened limit too.
    assert home.rule.homes[HOME].threshold_h == pytest.approx(after[KITCHEN_9])

    for _ in range(10):  # bounded, however often staff say so
        home.rule.on_verdict(verdict(alert, Outcome.FALSE_ALARM), alert.raised_at)
    widest = limits(home.rule)[KITCHEN_9]
    assert widest == pytest.approx(before[KITCHEN_9] * CAP, rel=1e-3)

    # Checkpointed with the home: a restarted detector keeps what staff taught it.
    restarted = InactivityRule(SETTINGS)
    restarted.restore(home.rule.snapshot())
    assert limits(restarted) == limits(home.rule)

    # A real emergency in that context undoes the widening at once.
    restarted.on_verdict(verdict(alert, Outcome.HOSPITAL), alert.raised_at)
    assert limits(restarted) == before


def test_the_next_quiet_in_that_context_waits_longer_than_without_the_verdict() -> None:
    told, untold = learned_home(), learned_home()
    for home in (told, untold):
        [alert] = quiet_after_the_kitchen(home, START + timedelta(days=8), until_h=12)
        if home is told:
            home.rule.on_verdict(verdict(alert, Outcome.FALSE_ALARM), alert.raised_at)
        routine_day(home, START + timedelta(days=8, hours=5))  # the rest of the day
    day = START + timedelta(days=9)
    [plain] = quiet_after_the_kitchen(untold, day, until_h=22)
    [widened_alert] = quiet_after_the_kitchen(told, day, until_h=22)
    since = day + timedelta(hours=9)
    plain_h = (plain.raised_at - since).total_seconds() / 3600
    widened_h = (widened_alert.raised_at - since).total_seconds() / 3600
    # One step, less a day's decay of it.
    assert plain_h * STEP ** (1 - 1 / HALF_LIFE_DAYS) - 2 / 60 <= widened_h <= plain_h * STEP


def test_a_false_no_wake_up_moves_that_kind_of_morning_only() -> None:
    home = learned_home()
    model = home.rule.homes[HOME].model
    weekday, weekend = model.wake_deadline_h(False, MODEL), model.wake_deadline_h(True, MODEL)
    alert = Alert.model_validate(
        {
            "alert_id": "a1",
            "home": HOME,
            "kind": "no_wake_up",
            "severity": "high",
            "raised_at": START + timedelta(days=8, hours=8),
            "explanation": {"zh-CN": "未起床", "en": "Not up"},
            "context": feedback.wake_context(False),
        }
    )
    home.rule.on_verdict(verdict(alert, Outcome.FALSE_ALARM), alert.raised_at)
    assert model.wake_deadline_h(False, MODEL) > weekday
    assert model.wake_deadline_h(True, MODEL) == weekend


def test_a_false_bathroom_stay_moves_the_day_limit_only() -> None:
    home = learned_home()
    model = home.rule.homes[HOME].model
    day, night = model.bath_threshold_min(False, MODEL), model.bath_threshold_min(True, MODEL)
    alert = Alert.model_validate(
        {
            "alert_id": "a2",
            "home": HOME,
            "kind": "bathroom_too_long",
            "severity": "high",
            "raised_at": START + timedelta(days=8, hours=10),
            "explanation": {"zh-CN": "在卫生间已很久", "en": "Long in the bathroom"},
            "context": feedback.bath_context(False),
        }
    )
    home.rule.on_verdict(verdict(alert, Outcome.FALSE_ALARM), alert.raised_at)
    assert model.bath_threshold_min(False, MODEL) == pytest.approx(day * STEP, rel=1e-3)
    assert model.bath_threshold_min(True, MODEL) == night


def test_other_verdicts_and_contexts_change_nothing() -> None:
    home = learned_home()
    [alert] = quiet_after_the_kitchen(home, START + timedelta(days=8))
    before = limits(home.rule)
    for outcome in (Outcome.NO_ACTION_NEEDED, Outcome.OTHER, Outcome.HELPED_AT_HOME):
        home.rule.on_verdict(verdict(alert, outcome), alert.raised_at)
    door = alert.model_copy(update={"context": {"rule": "door_left_open"}})
    home.rule.on_verdict(verdict(door, Outcome.FALSE_ALARM), alert.raised_at)
    stranger = alert.model_copy(update={"home": "h-unknown"})
    home.rule.on_verdict(verdict(stranger, Outcome.FALSE_ALARM), alert.raised_at)
    assert limits(home.rule) == before
    assert home.rule.homes[HOME].model.widening is None
    assert "h-unknown" not in home.rule.homes


def test_a_widening_decays_back_over_weeks_and_is_then_forgotten() -> None:
    table = Widening()
    key = feedback.slot(feedback.QUIET, 4, Place.KITCHEN)
    assert table.false_alarm(key, 100) == pytest.approx(STEP)
    assert widened(table, key, 100 + int(HALF_LIFE_DAYS)) == pytest.approx(STEP**0.5)
    assert widened(table, "quiet/5/kitchen", 100) == 1.0
    table.false_alarm("quiet/5/kitchen", 100 + 12 * int(HALF_LIFE_DAYS))
    assert list(table.entries) == ["quiet/5/kitchen"]  # the old one was dropped


def test_the_detector_service_routes_a_resolved_update_to_the_rule() -> None:
    home = learned_home()
    [alert] = quiet_after_the_kitchen(home, START + timedelta(days=8))
    before = limits(home.rule)
    settings = Settings()
    detector = Detector(settings, SimulatedClock(alert.raised_at), rules=[home.rule])
    topic = settings.topics.alert_updates(alert.alert_id)
    acked = verdict(alert, Outcome.FALSE_ALARM).model_copy(
        update={"status": AlertStatus.ACKNOWLEDGED}
    )

    async def deliver(update: AlertUpdate) -> None:
        assert await detector.handle(topic, update.to_json()) == []

    asyncio.run(deliver(acked))  # not a verdict yet
    assert limits(home.rule) == before
    asyncio.run(deliver(verdict(alert, Outcome.FALSE_ALARM)))
    assert limits(home.rule)[KITCHEN_9] > before[KITCHEN_9]

"""One episode is one alert: a long bathroom stay is reported once, whichever check sees it
first (the silence in the bathroom, or the stay running past its limit while moving)."""

from __future__ import annotations

from datetime import timedelta

from detector.activity.rule import InactivityRule
from eldercare.models import AlertKind, EventType
from tests.test_inactivity import SETTINGS, START, Home, routine_day


def _learned_home() -> Home:
    home = Home(InactivityRule(SETTINGS))
    for day in range(8):
        routine_day(home, START + timedelta(days=day))
    return home


def test_silence_then_a_little_movement_in_the_bathroom_is_one_alert() -> None:
    """As in the long_bathroom_stay scenario: in at 10:30, then hardly moving; the silence
    raises the alert, and a later twitch on the bathroom sensor must not raise it again."""
    home = _learned_home()
    day = START + timedelta(days=8)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    home.send("pir-kitchen", EventType.MOTION, day + timedelta(hours=7))
    entered = day + timedelta(hours=10, minutes=30)
    home.send("pir-bathroom", EventType.MOTION, entered)
    alerts = home.tick_until(entered, entered + timedelta(hours=2))
    assert [a.kind for a in alerts] == [AlertKind.BATHROOM_TOO_LONG], "the silence is seen"
    twitch = entered + timedelta(hours=2)
    alerts += home.send("pir-bathroom", EventType.MOTION, twitch)
    alerts += home.tick_until(twitch, entered + timedelta(hours=3))
    assert [a.kind for a in alerts] == [AlertKind.BATHROOM_TOO_LONG]


def test_moving_too_long_then_silent_in_the_bathroom_is_one_alert() -> None:
    home = _learned_home()
    day = START + timedelta(days=8)
    home.send("pir-bedroom", EventType.MOTION, day + timedelta(hours=6, minutes=50))
    home.send("pir-kitchen", EventType.MOTION, day + timedelta(hours=7))
    entered = day + timedelta(hours=10, minutes=30)
    alerts, now = [], entered
    while now < entered + timedelta(hours=2):  # moving every 5 min: the stay runs long
        alerts += home.send("pir-bathroom", EventType.MOTION, now)
        alerts += home.tick_until(now, now + timedelta(minutes=5))
        now += timedelta(minutes=5)
    assert [a.kind for a in alerts] == [AlertKind.BATHROOM_TOO_LONG]
    alerts += home.tick_until(now, now + timedelta(hours=6))  # then nothing at all
    assert [a.kind for a in alerts] == [AlertKind.BATHROOM_TOO_LONG]

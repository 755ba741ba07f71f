"""One incident, one alert: a silence alert stands until the resident is seen again (issue 20,
round 8). In an empty flat a motion sensor fires now and then on its own (tm000's two-day
absence: one trigger every few hours); each lone trigger used to start a new quiet, judged
afresh, and raised a second and a third alert for the same silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.activity.rule import InactivityRule, InactivitySettings
from eldercare.models import (
    Alert,
    AlertKind,
    Event,
    EventType,
    Outcome,
)
from tests.verdicts import verdict

HOME = "h-incident"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SILENCE = {AlertKind.INACTIVITY, AlertKind.NO_WAKE_UP}


class Home:
    """A rule fed by hand, with the clock ticked minute by minute as the service does."""

    def __init__(self) -> None:
        self.rule = InactivityRule(InactivitySettings(default_tz="UTC"))
        self.seq = 0
        self.now = START
        self.alerts: list[Alert] = []

    def sign(self, device: str, after: timedelta = timedelta(0)) -> None:
        self.now += after
        self.seq += 1
        event = Event(home=HOME, device=device, seq=self.seq, ts=self.now, type=EventType.MOTION)
        self.rule.on_event(event, self.now)

    def wait(self, hours: float) -> list[Alert]:
        raised: list[Alert] = []
        end = self.now + timedelta(hours=hours)
        while self.now < end:
            self.now += timedelta(minutes=1)
            raised.extend(self.rule.on_tick(self.now).alerts)
        self.alerts.extend(raised)
        return raised

    def wait_until(self, at: datetime) -> list[Alert]:
        return self.wait((at - self.now).total_seconds() / 3600)

    def busy(self) -> None:
        """The resident about: several rooms within minutes."""
        for device in ("pir-kitchen", "pir-hall", "pir-living"):
            self.sign(device, timedelta(minutes=1))


def _silent_until_alert(home: Home) -> Alert:
    home.busy()
    raised = [a for a in home.wait(13) if a.kind is AlertKind.INACTIVITY]
    assert raised, "13 h of silence by day must raise inactivity"
    return raised[0]


def test_a_lone_blip_after_a_silence_alert_raises_no_second_alert() -> None:
    """Fails if a lone trigger (ON and OFF one second apart, as a recording gives them)
    starts a new quiet that is alarmed again: the first alert still stands."""
    home = Home()
    _silent_until_alert(home)
    home.sign("pir-hall")
    home.sign("pir-hall", timedelta(seconds=1))
    assert home.rule.homes[HOME].alarm_standing
    assert home.wait(2) == []
    home.sign("pir-kitchen")  # another sensor, two hours on: still no one about
    assert home.rule.homes[HOME].alarm_standing
    assert home.wait(14) == []


def test_someone_seen_again_ends_the_incident() -> None:
    """Fails if the standing alert outlives the resident's return (two rooms within minutes):
    the next silence must be alarmed again."""
    home = Home()
    _silent_until_alert(home)
    home.busy()
    assert not home.rule.homes[HOME].alarm_standing
    assert any(a.kind in SILENCE for a in home.wait(14))


def test_one_sensor_firing_again_is_someone_there() -> None:
    """Fails if a single room's sensor re-triggering a while later (a resident in the one
    room with a sensor, seen every 20 minutes) does not count as someone seen."""
    home = Home()
    _silent_until_alert(home)
    home.sign("pir-living")
    home.sign("pir-living", timedelta(minutes=20))
    assert not home.rule.homes[HOME].alarm_standing


def test_staff_closing_the_alert_ends_the_incident() -> None:
    """Fails if a verdict on the silence alert leaves it standing: once staff have closed
    it, the next silence, however it began, is a new incident."""
    home = Home()
    alert = _silent_until_alert(home)
    update = verdict(alert, Outcome.FALSE_ALARM)
    home.rule.on_verdict(update, home.now)
    assert not home.rule.homes[HOME].alarm_standing
    home.sign("pir-hall")
    assert any(a.kind in SILENCE for a in home.wait(14))


def test_no_wake_up_is_the_same_incident_while_a_silence_alert_stands() -> None:
    """Fails if the morning after an unanswered silence alert, with nothing but a lone blip
    in the night, raises ``no_wake_up`` as a second incident."""
    home = Home()
    day = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(4):  # ordinary days: up at 07:00, about until 21:00
        home.wait_until(day + timedelta(days=n, hours=7))
        home.busy()
        if n < 3:
            home.wait_until(day + timedelta(days=n, hours=21))
            home.busy()
    assert any(a.kind is AlertKind.INACTIVITY for a in home.wait(13))
    home.wait_until(day + timedelta(days=4, hours=2))
    home.sign("pir-hall")
    home.wait_until(day + timedelta(days=4, hours=14))
    assert not {a.kind for a in home.alerts if a.raised_at > home.now - timedelta(hours=12)}


def test_the_standing_alert_survives_a_restart() -> None:
    """Fails if the checkpoint drops it: a restarted detector would alarm the same
    silence again at the next lone blip."""
    home = Home()
    _silent_until_alert(home)
    restored = InactivityRule(InactivitySettings(default_tz="UTC"))
    restored.restore(home.rule.snapshot())
    assert restored.homes[HOME].alarm_standing

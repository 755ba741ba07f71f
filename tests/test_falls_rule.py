"""The fall rule in a home: real SisFall windows as pendant telemetry, time on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from detector.checkpoint import must_save_now, seconds_to_next_tick
from detector.falls.rule import FallRule
from detector.rules import RuleOutput
from eldercare.clock import SimulatedClock
from eldercare.models import Alert, AlertKind, Event, EventType, Severity, Telemetry
from evaluation.falls.replay import telemetry_batches
from simulator import accel
from simulator.homes import SimulatedHome
from tests.falls_support import recording

RATE = 50.0
TICK_S = 10.0


class Home:
    """One simulated home in front of a FallRule, with the clock moving as messages arrive."""

    def __init__(self, rule: FallRule | None = None) -> None:
        self.clock = SimulatedClock()
        self.start = self.clock.now()
        self.rule = rule or FallRule(confirm_s=15.0)
        self.home = SimulatedHome("h-0001")
        self.alerts: list[Alert] = []
        self.points: list[str] = []
        self.seq = 1
        self._next_tick = self.start + timedelta(seconds=TICK_S)

    def _collect(self, output: RuleOutput) -> None:
        self.alerts.extend(output.alerts)
        self.points.extend(str(p.fields["stage"]) for p in output.points)

    def _at(self, when: datetime) -> None:
        while self._next_tick <= when:
            self.clock.set(self._next_tick)
            self._collect(self.rule.on_tick(self._next_tick))
            self._next_tick += timedelta(seconds=TICK_S)
        self.clock.set(when)

    def wear(self, samples: np.ndarray) -> None:
        """The pendant streams ``samples``; each batch arrives as its last sample is taken."""
        offset = self.clock.now() - self.start
        batches = telemetry_batches(samples, RATE, self.start + offset, first_seq=self.seq)
        self.seq += len(batches)
        for batch in batches:
            self._at(batch.ts + timedelta(seconds=1))
            self._collect(self.rule.on_telemetry(batch, self.clock.now()))

    def send(self, device: str, kind: EventType) -> Event:
        event = self.home.event(device, kind, self.clock.now())
        self._collect(self.rule.on_event(event, self.clock.now()))
        return event

    def wait(self, seconds: float) -> None:
        self._at(self.clock.now() + timedelta(seconds=seconds))


def _lying(seconds: float, fall: np.ndarray) -> np.ndarray:
    """Lying still where the fall ended: its last second, repeated."""
    return np.tile(fall[-round(RATE) :], (round(seconds), 1))


@pytest.fixture(scope="module")
def fall() -> np.ndarray:
    return recording("SA03/F02_SA03_R01", RATE)


def _impact(home: Home, fall: np.ndarray) -> datetime:
    return home.start + timedelta(seconds=float(np.linalg.norm(fall, axis=1).argmax()) / RATE)


def test_a_fall_then_stillness_is_a_critical_alert_within_30_s(fall: np.ndarray) -> None:
    home = Home()
    home.wear(fall)
    assert home.points == ["suspected"]
    assert home.alerts == []  # not yet: the home has its confirmation window
    home.wear(_lying(25, fall))
    [alert] = home.alerts
    assert alert.kind is AlertKind.FALL and alert.severity is Severity.CRITICAL
    assert alert.evidence[0].device == "pendant" and alert.evidence[0].type == "accel_impact"
    delay = (alert.raised_at - _impact(home, fall)).total_seconds()
    assert 15.0 <= delay <= 30.0
    assert home.points == ["suspected", "confirmed"]


def test_the_deadline_holds_when_the_pendant_falls_silent(fall: np.ndarray) -> None:
    home = Home()
    home.wear(fall)
    home.wait(40)  # no telemetry at all any more: only the clock ticks
    [alert] = home.alerts
    assert alert.severity is Severity.CRITICAL
    assert (alert.raised_at - _impact(home, fall)).total_seconds() <= 30.0


def test_the_service_wakes_when_the_window_closes_not_at_its_next_tick(fall: np.ndarray) -> None:
    """The service's ticks are 10 s apart; a fall confirmed between two of them waited for
    the next one (the chaos run saw falls on the wall 20-25 s after the fall)."""
    home = Home()
    home.wear(fall)
    deadline = home.rule.next_deadline()
    assert deadline is not None and home.alerts == []
    now, raised = home.clock.now(), []
    while not raised:
        wait = seconds_to_next_tick([home.rule], now, TICK_S)
        assert 0 < wait <= TICK_S
        now += timedelta(seconds=wait)
        raised = home.rule.on_tick(now).alerts
    assert raised[0].severity is Severity.CRITICAL
    assert (now - deadline).total_seconds() < 0.5
    assert home.rule.next_deadline() is None
    assert seconds_to_next_tick([home.rule], now, TICK_S) == TICK_S


def test_a_cancel_press_downgrades_to_a_recorded_low_alert(fall: np.ndarray) -> None:
    home = Home()
    home.wear(fall)
    home.wear(_lying(3, fall))
    press = home.send("pendant", EventType.CANCEL_BUTTON)
    home.wear(_lying(30, fall))
    [alert] = home.alerts
    assert alert.severity is Severity.LOW and alert.kind is AlertKind.FALL
    assert "cancelled" in alert.explanation.en and press.device in alert.explanation.en
    assert home.points == ["suspected", "cancelled"]


def test_room_motion_after_the_fall_downgrades_to_medium(fall: np.ndarray) -> None:
    home = Home()
    home.wear(fall)
    home.wear(_lying(4, fall))
    home.send("pir-living", EventType.MOTION)
    home.wear(_lying(30, fall))
    assert [a.severity for a in home.alerts] == [Severity.MEDIUM]
    assert "pir-living" in home.alerts[0].explanation.en


def test_getting_up_and_walking_away_is_not_critical(fall: np.ndarray) -> None:
    home = Home()
    home.wear(fall)
    home.wear(_lying(2, fall))
    home.wear(recording("SA03/D01_SA03_R01", RATE)[:1500])
    assert home.alerts and all(a.severity is not Severity.CRITICAL for a in home.alerts)
    assert home.alerts[0].severity is Severity.MEDIUM


def test_getting_up_slowly_counts_as_movement(fall: np.ndarray) -> None:
    """A slow get-up turns gravity from lying to upright with almost no change in magnitude."""
    home = Home()
    home.wear(fall)
    home.wear(_lying(2, fall))
    lying = fall[-round(RATE) :].mean(axis=0)
    lying /= np.linalg.norm(lying)
    upright = np.cross(lying, [1.0, 0.0, 0.0])
    upright /= np.linalg.norm(upright)
    turn = np.linspace(0.0, 1.0, round(3 * RATE))[:, None]
    rising = (1 - turn) * lying + turn * upright
    home.wear(rising / np.linalg.norm(rising, axis=1, keepdims=True))  # exactly 1 g throughout
    assert [a.severity for a in home.alerts] == [Severity.MEDIUM]


def test_everyday_activity_raises_nothing() -> None:
    home = Home()
    for name in ("SA04/D01_SA04_R01", "SA04/D07_SA04_R01", "SA04/D15_SA04_R02"):
        home.wear(recording(name, RATE))
    home.wait(60)
    assert home.alerts == []


def test_device_reported_falls_go_through_the_same_confirmation(fall: np.ndarray) -> None:
    home = Home()
    home.wear(fall[: round(5 * RATE)])  # still walking: nothing suspicious yet
    home.send("pendant", EventType.FALL_SUSPECTED)
    home.wear(fall[round(5 * RATE) :])  # the pendant's own stream sees the same fall
    assert home.alerts == []  # 15 s of recording, but the report came at 5 s
    home.wait(10)
    [alert] = home.alerts
    assert alert.severity is Severity.CRITICAL
    assert [e.type for e in alert.evidence] == ["fall_suspected", "accel_impact"]


def test_pendant_state_is_bounded_and_forgotten_when_silent(fall: np.ndarray) -> None:
    home = Home(FallRule(idle_s=60))
    for device in ("pendant", "pendant-2"):
        batch = telemetry_batches(fall[:100], RATE, home.clock.now(), device=device)[0]
        home.rule.on_telemetry(batch, home.clock.now())
    assert len(home.rule.pendants) == 2
    assert all(p.stream.nbytes < 8192 for p in home.rule.pendants.values())
    home.wait(120)
    assert home.rule.pendants == {}


def test_other_telemetry_is_ignored() -> None:
    home = Home()
    reading = Telemetry(
        home="h-0001", device="thermo", seq=1, ts=home.clock.now(), metric="temperature", value=21
    )
    assert home.rule.on_telemetry(reading, home.clock.now()) == RuleOutput()
    assert home.rule.pendants == {}


def test_a_restart_inside_the_confirmation_window_still_raises_the_fall_once(
    fall: np.ndarray,
) -> None:
    uninterrupted = Home()
    uninterrupted.wear(fall)
    uninterrupted.wait(40)
    [expected] = uninterrupted.alerts

    home = Home()
    home.wear(fall)
    assert must_save_now([home.rule])  # a 15 s window is shorter than the checkpoint interval
    saved = home.rule.snapshot()
    home.rule = FallRule(confirm_s=15.0)  # the detector is killed and starts again
    home.rule.restore(saved)
    home.wait(40)  # the pendant is silent: only the clock ticks
    [alert] = home.alerts
    assert alert.severity is Severity.CRITICAL
    assert alert.alert_id == expected.alert_id  # raised again before a checkpoint: deduplicated
    assert alert.evidence == expected.evidence
    assert not must_save_now([home.rule])

    again = FallRule(confirm_s=15.0)
    again.restore(home.rule.snapshot())  # once raised, a restart does not raise it again
    assert again.on_tick(home.clock.now() + timedelta(minutes=5)).alerts == []


def _cut_after_impact(fall: np.ndarray, seconds: float) -> np.ndarray:
    """The recording up to ``seconds`` after its impact: the pendant stops sending there."""
    return fall[: int(np.linalg.norm(fall, axis=1).argmax()) + round(seconds * RATE)]


def test_a_pendant_silent_right_after_the_impact_does_not_lose_the_fall(fall: np.ndarray) -> None:
    """A body lying on the pendant, or its battery knocked loose: the samples stop before the
    aftermath the detector waits for (3 s) has come. That impact used to wait for ever and
    was dropped when the silent pendant was forgotten."""
    home = Home()
    home.wear(_cut_after_impact(fall, 0.5))
    assert home.points == []  # its aftermath is not in: nothing decided yet
    last_batch = home.seq - 1
    home.wait(60)
    [alert] = home.alerts
    assert alert.severity is Severity.CRITICAL
    assert alert.evidence[0].seq == last_batch and alert.evidence[0].type == "accel_impact"
    assert (alert.raised_at - _impact(home, fall)).total_seconds() <= 45.0
    assert home.points == ["suspected", "confirmed"]


def test_the_service_wakes_when_a_pendant_counts_as_cut_off(fall: np.ndarray) -> None:
    home = Home()
    home.wear(_cut_after_impact(fall, 0.5))
    last_seen = home.clock.now()
    assert home.rule.next_deadline() == last_seen + timedelta(seconds=5)
    assert seconds_to_next_tick([home.rule], last_seen, TICK_S) == pytest.approx(5.0)
    assert home.rule.on_tick(last_seen + timedelta(seconds=4.9)).points == []
    assert [
        p.fields["stage"] for p in home.rule.on_tick(last_seen + timedelta(seconds=5)).points
    ] == ["suspected"]
    assert home.rule.next_deadline() == home.rule.suspected["h-0001"].deadline


@pytest.mark.parametrize(
    ("then", "severity"),
    [("lying", Severity.CRITICAL), ("walking", Severity.MEDIUM)],
)
def test_an_impact_cut_by_a_gap_is_decided_when_the_pendant_is_back(
    fall: np.ndarray, then: str, severity: Severity
) -> None:
    """The link drops for a few seconds after the impact and comes back: the resampler starts
    a new stream, which used to throw the impact away with the old one."""
    home = Home()
    home.wear(_cut_after_impact(fall, 0.5))
    home.wait(3)  # longer than the stream's gap tolerance, shorter than the cut-off
    assert home.points == []
    after = _lying(30, fall) if then == "lying" else recording("SA03/D01_SA03_R01", RATE)[:1500]
    home.wear(after)
    home.wait(30)
    assert home.points[0] == "suspected"
    assert home.alerts[0].severity is severity
    assert all(a.severity is not Severity.CRITICAL for a in home.alerts[1:])


def test_a_cut_without_an_impact_raises_nothing() -> None:
    home = Home()
    walk = recording("SA04/D01_SA04_R01", RATE)
    home.wear(walk[: round(20 * RATE)])
    home.wait(60)
    home.wear(walk[round(20 * RATE) :])
    home.wait(60)
    assert home.alerts == [] and home.points == []


def test_a_simulated_fall_cut_off_after_its_impact_is_raised_without_the_shared_data() -> None:
    """The cut-off case on the simulator's pendant fall, so it runs where SisFall is absent."""
    rng = np.random.default_rng(3)
    impact = round(6 * RATE)
    lying = accel.fall(round(12 * RATE), RATE, 4.0, impact, rng)
    samples = np.asarray(accel.finish(lying, accel.wearing_rotation(rng), rng))
    uncut = Home()
    uncut.wear(samples)
    uncut.wait(60)
    assert [a.severity for a in uncut.alerts] == [Severity.CRITICAL]
    home = Home()
    home.wear(samples[: impact + round(0.5 * RATE)])
    assert home.points == []
    home.wait(60)
    assert [a.severity for a in home.alerts] == [Severity.CRITICAL]

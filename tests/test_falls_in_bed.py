"""A fall suspicion while the bed mat says the resident is in bed (issue 15: stay silent
through daily life). Turning over in bed is what the pendant most often takes for a fall, and
a sleeper lies still afterwards: without the bed it was a critical alert at night."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.falls.rule import FallRule
from detector.rules import RuleOutput
from detector.service import default_rules
from eldercare.models import Alert, EventType, Severity
from simulator.homes import SimulatedHome

NIGHT = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


class Night:
    """The detector's own rules for one home, fed in the detector's order."""

    def __init__(self) -> None:
        self.rules = default_rules()
        [self.fall] = [rule for rule in self.rules if isinstance(rule, FallRule)]
        self.home = SimulatedHome("h-0001")
        self.alerts: list[Alert] = []
        self.stages: list[str] = []

    def _collect(self, outputs: list[RuleOutput]) -> None:
        for output in outputs:
            self.alerts += [a for a in output.alerts if a.kind == "fall"]
            falls = [point for point in output.points if point.measurement == "fall"]
            self.stages += [str(point.fields["stage"]) for point in falls]

    def send(self, device: str, kind: EventType, at: datetime) -> None:
        event = self.home.event(device, kind, at)
        self._collect([rule.on_event(event, at) for rule in self.rules])

    def tick(self, at: datetime) -> None:
        self._collect([self.fall.on_tick(at)])


def test_a_suspicion_in_bed_is_a_check_in_not_an_emergency() -> None:
    night = Night()
    night.send("bed-main", EventType.BED_OCCUPIED, NIGHT)
    night.send("pir-bedroom", EventType.MOTION, NIGHT + timedelta(minutes=20))  # turning over
    turn = NIGHT + timedelta(hours=2)
    night.send("pendant", EventType.FALL_SUSPECTED, turn)
    night.tick(turn + timedelta(seconds=20))
    assert night.alerts == [], "the mat still says in bed: wait for it before deciding"
    night.tick(turn + timedelta(seconds=80))
    [alert] = night.alerts
    assert alert.severity is Severity.MEDIUM
    assert "still in bed" in alert.explanation.en
    assert night.stages == ["suspected", "in_bed"]


def test_a_fall_out_of_bed_empties_the_mat_and_is_critical() -> None:
    night = Night()
    night.send("bed-main", EventType.BED_OCCUPIED, NIGHT)
    fall = NIGHT + timedelta(hours=2)
    night.send("pendant", EventType.FALL_SUSPECTED, fall)
    night.tick(fall + timedelta(seconds=16))  # the mat is slow to say so
    night.send("bed-main", EventType.BED_EMPTY, fall + timedelta(seconds=25))
    night.tick(fall + timedelta(seconds=41))
    [alert] = night.alerts
    assert alert.severity is Severity.CRITICAL
    assert alert.raised_at <= fall + timedelta(seconds=41)


def test_a_mat_stuck_at_occupied_does_not_hide_a_fall_elsewhere() -> None:
    night = Night()
    night.send("bed-main", EventType.BED_OCCUPIED, NIGHT)
    night.send("pir-kitchen", EventType.MOTION, NIGHT + timedelta(hours=1))
    fall = NIGHT + timedelta(hours=1, minutes=5)
    night.send("pendant", EventType.FALL_SUSPECTED, fall)
    night.tick(fall + timedelta(seconds=16))
    [alert] = night.alerts
    assert alert.severity is Severity.CRITICAL


def test_the_wait_for_the_mat_survives_a_restart() -> None:
    night = Night()
    night.send("bed-main", EventType.BED_OCCUPIED, NIGHT)
    turn = NIGHT + timedelta(hours=2)
    night.send("pendant", EventType.FALL_SUSPECTED, turn)
    night.tick(turn + timedelta(seconds=20))
    saved = {rule.name: rule.snapshot() for rule in night.rules if hasattr(rule, "snapshot")}
    again = Night()
    for rule in again.rules:
        if rule.name in saved:
            rule.restore(saved[rule.name])
    again.tick(turn + timedelta(seconds=80))
    [alert] = again.alerts
    assert alert.severity is Severity.MEDIUM

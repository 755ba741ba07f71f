"""Faults found by probing the detector: device counters that jump, and a rule that fails.

Both lost call-button presses on a real load test: a zigbee2mqtt button numbers its messages
by the microsecond, so an ordinary quiet spell is a jump of billions in ``seq``; the
inactivity rule's anti-replay window shifted by the jump (gigabytes, then MemoryError), and
the exception threw away the call-button alert already made from the same message.
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from detector.activity.home import HomeState
from detector.call_button import CallButtonRule
from detector.rules import BaseRule, RuleOutput
from detector.service import Detector, default_rules
from eldercare.clock import SimulatedClock
from eldercare.models import Alert, AlertKind, Event, EventType
from eldercare.settings import Settings

PRESSED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _press(seq: int, at: datetime) -> Event:
    return Event(home="h-0001", device="btn-hall", seq=seq, ts=at, type=EventType.CALL_BUTTON)


def _alerts(messages: object) -> list[Alert]:
    return [Alert.model_validate_json(message.payload) for message in messages]  # type: ignore[attr-defined]


def test_a_jump_in_seq_costs_no_memory_and_still_detects_redeliveries() -> None:
    state = HomeState(home="h-0001", tz=ZoneInfo("UTC"))
    tracemalloc.start()
    try:
        assert not state.duplicate("btn-hall", 1)
        # 4 h of zigbee2mqtt microseconds, then the largest seq the contract admits.
        assert not state.duplicate("btn-hall", 1 + 4 * 3600 * 10**6)
        assert not state.duplicate("btn-hall", 2**63 - 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000
    assert state.duplicate("btn-hall", 2**63 - 1)  # a redelivery is still one
    assert not state.duplicate("btn-hall", 2**63 - 2)  # and the window below it works
    assert state.duplicate("btn-hall", 2**63 - 2)
    assert state.window("btn-hall").bit_length() <= 63 + 64


async def test_presses_numbered_in_microseconds_each_raise_an_alert(tmp_path: Path) -> None:
    """The repro: a press numbered 1 by the simulator, then by a client counting in µs."""
    clock = SimulatedClock(PRESSED)
    detector = Detector(Settings(data_dir=tmp_path), clock, rules=default_rules())
    topic = detector.topics.normalised("h-0001", "btn-hall", "event")
    raised = []
    for seq, at in ((1, PRESSED), (2**40, PRESSED + timedelta(hours=6))):
        clock.set(at)
        raised += _alerts(await detector.handle(topic, _press(seq, at).to_json()))
    assert [alert.kind for alert in raised] == [AlertKind.CALL_BUTTON] * 2
    assert detector.rule_failures == {}


class _Broken(BaseRule):
    name = "broken"

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        raise RuntimeError("a bug in one rule")

    def on_tick(self, now: datetime) -> RuleOutput:
        raise RuntimeError("a bug in one rule")


async def test_a_failing_rule_does_not_throw_away_the_other_rules_alerts(tmp_path: Path) -> None:
    clock = SimulatedClock(PRESSED)
    detector = Detector(Settings(data_dir=tmp_path), clock, rules=[_Broken(), CallButtonRule()])
    topic = detector.topics.normalised("h-0001", "btn-hall", "event")
    [alert] = _alerts(await detector.handle(topic, _press(7, PRESSED).to_json()))
    assert alert.kind is AlertKind.CALL_BUTTON
    assert list(detector.tick()) == []  # a failing tick is contained too
    assert detector.rule_failures == {"broken": 2}

"""Hazards: smoke at once (one alert per episode), temperature only when it lasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.hazards import HazardRule
from eldercare.models import AlertKind, Event, EventType, Metric, Severity, Telemetry

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_smoke_is_critical_at_once_and_repeats_are_one_episode() -> None:
    rule = HazardRule()
    first = Event(home="h-1", device="smoke-k", seq=1, ts=AT, type=EventType.SMOKE)
    again = Event(home="h-1", device="smoke-k", seq=2, ts=AT + timedelta(minutes=1), type="smoke")
    alerts = rule.on_event(first, AT).alerts
    assert [(a.kind, a.severity) for a in alerts] == [(AlertKind.SMOKE, Severity.CRITICAL)]
    assert rule.on_event(again, AT).alerts == []


def test_heat_alerts_after_it_lasts_and_rearms_when_back_in_range() -> None:
    rule = HazardRule()

    def reading(minute: int, celsius: float) -> Telemetry:
        ts = AT + timedelta(minutes=minute)
        return Telemetry(
            home="h-1", device="t-liv", seq=minute, ts=ts, metric=Metric.TEMPERATURE, value=celsius
        )

    kinds = [a.kind for m in range(0, 40, 5) for a in rule.on_telemetry(reading(m, 34), AT).alerts]
    assert kinds == [AlertKind.TEMPERATURE]
    assert rule.on_telemetry(reading(45, 25), AT).alerts == []
    later = [a for m in range(50, 90, 5) for a in rule.on_telemetry(reading(m, 35), AT).alerts]
    assert len(later) == 1 and "34" not in later[0].explanation.en


def test_a_restart_mid_heat_wave_keeps_its_clock_and_a_smoke_repeat_stays_one_episode() -> None:
    def reading(minute: int) -> Telemetry:
        ts = AT + timedelta(minutes=minute)
        return Telemetry(
            home="h-1", device="t-liv", seq=minute, ts=ts, metric=Metric.TEMPERATURE, value=34
        )

    before = HazardRule()
    smoke = Event(home="h-1", device="smoke-k", seq=1, ts=AT, type=EventType.SMOKE)
    assert before.on_event(smoke, AT).alerts
    for minute in range(0, 25, 5):
        assert before.on_telemetry(reading(minute), AT).alerts == []
    after = HazardRule()
    after.restore(before.snapshot())  # the detector restarts 20 min into the heat
    again = Event(home="h-1", device="smoke-k", seq=2, ts=AT + timedelta(minutes=2), type="smoke")
    assert after.on_event(again, AT).alerts == []
    heat = [a for m in (25, 30) for a in after.on_telemetry(reading(m), AT).alerts]
    assert [a.kind for a in heat] == [AlertKind.TEMPERATURE]  # at 30 min, not 30 min later
    restored_twice = HazardRule()
    restored_twice.restore(after.snapshot())
    assert restored_twice.on_telemetry(reading(35), AT).alerts == []  # raised once

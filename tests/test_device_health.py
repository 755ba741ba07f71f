"""Silent devices go to the technician; a whole silent home is one alert, not many."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detector.alerts import stable_alert_id
from detector.device_health import DeviceHealthRule
from detector.packed import PackedInts
from eldercare.models import (
    HOME_GATEWAY_DEVICE,
    AlertKind,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Metric,
    Severity,
    Telemetry,
)

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def heartbeat(device: str, seq: int, at: datetime) -> Event:
    return Event(home="h-1", device=device, seq=seq, ts=at, type=EventType.HEARTBEAT)


def test_one_silent_device_then_the_whole_home() -> None:
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    for device in ("pir-a", "pir-b"):
        rule.on_event(heartbeat(device, 1, AT), AT)
    later = AT + timedelta(minutes=20)
    rule.on_event(heartbeat("pir-a", 2, later), later)
    alerts = rule.on_tick(AT + timedelta(minutes=35)).alerts
    assert [(a.kind, a.severity) for a in alerts] == [(AlertKind.DEVICE_OFFLINE, Severity.LOW)]
    assert "pir-b" in alerts[0].explanation.en
    assert rule.on_tick(AT + timedelta(minutes=40)).alerts == []  # once per episode
    alerts = rule.on_tick(AT + timedelta(minutes=55)).alerts
    assert [a.kind for a in alerts] == [AlertKind.HOME_OFFLINE]
    assert "not resident inactivity" in alerts[0].explanation.en
    back = AT + timedelta(minutes=60)
    rule.on_event(heartbeat("pir-a", 3, back), back)
    assert rule.on_tick(back).alerts == []


def test_battery_low_once_until_replaced() -> None:
    rule = DeviceHealthRule()

    def battery(seq: int, pct: float) -> Telemetry:
        return Telemetry(
            home="h-1", device="pir-a", seq=seq, ts=AT, metric=Metric.BATTERY, value=pct
        )

    kinds = [
        a.kind
        for seq, pct in enumerate((40, 14, 12, 10))
        for a in rule.on_telemetry(battery(seq, pct), AT).alerts
    ]
    assert kinds == [AlertKind.BATTERY_LOW]
    rule.on_telemetry(battery(10, 100), AT)
    assert [a.kind for a in rule.on_telemetry(battery(11, 9), AT).alerts] == [AlertKind.BATTERY_LOW]


def test_a_condition_that_ends_clears_its_alert_once_for_the_home() -> None:
    """Issue 14 #11: device_offline was never cleared when the device came back."""
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    for device in ("pir-a", "pir-b", "pir-c"):
        rule.on_event(heartbeat(device, 1, AT), AT)
    later = AT + timedelta(minutes=20)
    rule.on_event(heartbeat("pir-c", 2, later), later)  # c keeps the home alive
    down = rule.on_tick(AT + timedelta(minutes=35))
    assert [a.kind for a in down.alerts] == [AlertKind.DEVICE_OFFLINE] * 2  # a and b
    assert down.cleared == []
    back = AT + timedelta(minutes=40)
    assert rule.on_event(heartbeat("pir-a", 2, back), back).cleared == [], "b is still down"
    (cleared,) = rule.on_event(heartbeat("pir-b", 2, back), back).cleared
    assert (cleared.cleared, cleared.home, cleared.devices) == (
        AlertKind.DEVICE_OFFLINE,
        "h-1",
        ["pir-b"],
    )
    assert "back online" in cleared.reason
    assert rule.on_event(heartbeat("pir-b", 3, back), back).cleared == [], "once"


def test_the_home_back_and_a_new_battery_clear_their_alerts() -> None:
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    rule.on_event(heartbeat("pir-a", 1, AT), AT)
    assert [a.kind for a in rule.on_tick(AT + timedelta(minutes=35)).alerts] == [
        AlertKind.HOME_OFFLINE
    ]
    back = AT + timedelta(minutes=50)
    assert [c.cleared for c in rule.on_event(heartbeat("pir-a", 2, back), back).cleared] == [
        AlertKind.HOME_OFFLINE
    ]

    def battery(seq: int, pct: float) -> Telemetry:
        return Telemetry(
            home="h-1", device="pir-a", seq=seq, ts=back, metric=Metric.BATTERY, value=pct
        )

    assert [a.kind for a in rule.on_telemetry(battery(3, 10), back).alerts] == [
        AlertKind.BATTERY_LOW
    ]
    assert rule.on_telemetry(battery(4, 20), back).cleared == [], "not yet back to OK"
    (cleared,) = rule.on_telemetry(battery(5, 100), back).cleared
    assert cleared.cleared is AlertKind.BATTERY_LOW and "100%" in cleared.reason


def test_compact_state_keeps_the_last_heard_time_exactly_and_forgets_the_down() -> None:
    """Per-device state is one packed integer (100 k homes are kept in memory): the alert id
    still derives from the exact last-heard time, and the reason a device is down is kept
    only while it is down."""
    heard = AT + timedelta(seconds=7, microseconds=123457)
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    rule.on_event(heartbeat("pir-a", 1, heard), heard)
    rule.on_event(heartbeat("pir-b", 1, AT + timedelta(minutes=20)), AT + timedelta(minutes=20))
    tick = AT + timedelta(minutes=35)
    (alert,) = rule.on_tick(tick).alerts
    key = f"pir-a|{heard.isoformat()}"
    assert alert.alert_id == stable_alert_id(tick, "h-1", AlertKind.DEVICE_OFFLINE, key)
    assert rule._down == {"h-1": {"pir-a": "no message for 30 min"}}
    rule.on_event(heartbeat("pir-a", 2, tick), tick)
    assert rule._down == {}


def restarted(rule: DeviceHealthRule) -> DeviceHealthRule:
    fresh = DeviceHealthRule(silence=rule.silence)
    fresh.restore(rule.snapshot())
    return fresh


def test_open_conditions_survive_a_restart_and_clear_when_they_end() -> None:
    """A device that came back after a detector restart used to leave its device_offline
    alert open for ever, and a low battery replaced after it was never cleared."""
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    for device in ("pir-a", "pir-b"):
        rule.on_event(heartbeat(device, 1, AT), AT)
    later = AT + timedelta(minutes=20)
    rule.on_event(heartbeat("pir-b", 2, later), later)
    low = Telemetry(home="h-1", device="pir-b", seq=3, ts=later, metric=Metric.BATTERY, value=9)
    assert [a.kind for a in rule.on_telemetry(low, later).alerts] == [AlertKind.BATTERY_LOW]
    assert [a.kind for a in rule.on_tick(AT + timedelta(minutes=35)).alerts] == [
        AlertKind.DEVICE_OFFLINE
    ]

    rule = restarted(rule)
    tick = AT + timedelta(minutes=40)
    assert rule.on_tick(tick).alerts == [], "the condition is still the one alerted"
    back = AT + timedelta(minutes=45)
    (cleared,) = rule.on_event(heartbeat("pir-a", 2, back), back).cleared
    assert (cleared.cleared, cleared.devices) == (AlertKind.DEVICE_OFFLINE, ["pir-a"])
    new = Telemetry(home="h-1", device="pir-b", seq=4, ts=back, metric=Metric.BATTERY, value=100)
    (cleared,) = rule.on_telemetry(new, back).cleared
    assert cleared.cleared is AlertKind.BATTERY_LOW


def test_a_whole_home_offline_survives_a_restart_and_only_open_homes_are_saved() -> None:
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    rule.on_event(heartbeat("pir-a", 1, AT), AT)
    healthy = Event(home="h-2", device="pir-x", seq=1, ts=AT, type=EventType.HEARTBEAT)
    rule.on_event(healthy, AT)
    late = AT + timedelta(minutes=35)
    rule.on_event(healthy.model_copy(update={"seq": 2, "ts": late}), late)
    assert [a.kind for a in rule.on_tick(late).alerts] == [AlertKind.HOME_OFFLINE]
    assert b"h-2" not in rule.snapshot(), "a healthy home costs the checkpoint nothing"

    rule = restarted(rule)
    assert rule.on_tick(late + timedelta(minutes=5)).alerts == []
    back = late + timedelta(minutes=10)
    assert [c.cleared for c in rule.on_event(heartbeat("pir-a", 2, back), back).cleared] == [
        AlertKind.HOME_OFFLINE
    ]
    rule.retain(lambda home: home != "h-1")
    assert rule._homes == {} and rule._down == {} and rule._home_alerted == set()


def test_after_a_restart_one_device_down_is_not_the_whole_home() -> None:
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    for device in ("pir-a", "pir-b", "pir-c"):
        rule.on_event(heartbeat(device, 1, AT), AT)
    later = AT + timedelta(minutes=20)
    for device in ("pir-b", "pir-c"):
        rule.on_event(heartbeat(device, 2, later), later)
    assert [a.kind for a in rule.on_tick(AT + timedelta(minutes=35)).alerts] == [
        AlertKind.DEVICE_OFFLINE
    ]
    rule = restarted(rule)
    assert rule.on_tick(AT + timedelta(minutes=40)).alerts == [], "b and c were heard"


def status(device: str, state: DeviceState, at: datetime) -> DeviceStatus:
    return DeviceStatus(home="h-1", device=device, ts=at, state=state, reason="deadline")


def test_a_retained_offline_status_heard_first_after_a_start_is_one_device_not_the_home() -> None:
    """A (re)started detector gets the retained statuses one by one: one dead sensor heard
    before the home's live ones made a false home_offline for every such home."""
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    first = rule.on_status(status("pir-a", DeviceState.OFFLINE, AT), AT)
    assert [a.kind for a in first.alerts] == [AlertKind.DEVICE_OFFLINE]
    for device in ("pir-b", "pir-c"):
        assert rule.on_status(status(device, DeviceState.ONLINE, AT), AT).alerts == []
    assert rule.on_tick(AT + timedelta(minutes=35)).alerts == []


def test_a_home_found_all_down_at_start_is_offline_once_the_start_has_settled() -> None:
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    kinds = [
        a.kind
        for device in ("pir-a", "pir-b")
        for a in rule.on_status(status(device, DeviceState.OFFLINE, AT), AT).alerts
    ]
    assert kinds == [AlertKind.DEVICE_OFFLINE] * 2
    assert rule.on_tick(AT + timedelta(minutes=10)).alerts == []
    assert [a.kind for a in rule.on_tick(AT + timedelta(minutes=30)).alerts] == [
        AlertKind.HOME_OFFLINE
    ]


def test_the_hubs_own_offline_status_is_the_whole_home_at_once_even_at_start() -> None:
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    hub = rule.on_status(status(HOME_GATEWAY_DEVICE, DeviceState.OFFLINE, AT), AT)
    assert [a.kind for a in hub.alerts] == [AlertKind.HOME_OFFLINE]


def test_the_checkpoint_looks_only_at_homes_that_had_a_condition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 10 000 homes (160 000 devices) walking every device for the checkpoint held the
    detector's loop ~0.1 s (issue 18): a healthy home is not read, and the homes with a
    condition open (a low battery while the device is up, a silent device) are still saved."""
    rule = DeviceHealthRule(silence=timedelta(minutes=30))
    healthy = [f"h-{number:04d}" for number in range(2, 502)]
    for home in ["h-low", "h-silent", *healthy]:
        for device in ("pir-a", "pir-b"):
            event = Event(home=home, device=device, seq=1, ts=AT, type=EventType.HEARTBEAT)
            rule.on_event(event, AT)
    low = Telemetry(home="h-low", device="pir-a", seq=2, ts=AT, metric=Metric.BATTERY, value=10.0)
    assert [a.kind for a in rule.on_telemetry(low, AT).alerts] == [AlertKind.BATTERY_LOW]
    later = AT + timedelta(minutes=35)
    for home in ["h-low", *healthy]:
        for device in ("pir-a", "pir-b"):
            event = Event(home=home, device=device, seq=3, ts=later, type=EventType.HEARTBEAT)
            rule.on_event(event, later)
    rule.on_event(
        Event(home="h-silent", device="pir-a", seq=3, ts=later, type=EventType.HEARTBEAT), later
    )
    assert [a.kind for a in rule.on_tick(later).alerts] == [AlertKind.DEVICE_OFFLINE]

    reads: list[object] = []
    values = PackedInts.values
    monkeypatch.setattr(PackedInts, "values", lambda self: reads.append(self) or values(self))
    saved = json.loads(rule.snapshot())
    assert sorted(saved) == ["h-low", "h-silent"]
    assert len(reads) < 10  # the two homes with a condition, not the 500 healthy ones

    restored = DeviceHealthRule(silence=timedelta(minutes=30))
    restored.restore(rule.snapshot())
    back = Telemetry(
        home="h-low", device="pir-a", seq=4, ts=later, metric=Metric.BATTERY, value=90.0
    )
    assert [c.cleared for c in restored.on_telemetry(back, later).cleared] == [
        AlertKind.BATTERY_LOW
    ]
    assert sorted(json.loads(restored.snapshot())) == ["h-silent"]

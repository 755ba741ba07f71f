"""The call-button rule's ids: one press is one alert, however often the broker delivers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.call_button import CallButtonRule, call_button_alert
from eldercare.models import AlertKind, Event, EventType, Severity


def _press(seq: int, at: datetime) -> Event:
    return Event(home="h-0001", device="btn-hall", seq=seq, ts=at, type=EventType.CALL_BUTTON)


def test_a_redelivered_press_has_the_same_alert_id_and_a_new_press_a_new_one() -> None:
    rule = CallButtonRule()
    pressed = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    [first] = rule.on_event(_press(7, pressed), pressed + timedelta(seconds=1)).alerts
    # The broker delivers it again an hour later (after a reconnect); the alert may be
    # resolved by then, and alerting must recognise it rather than page everybody again.
    [again] = rule.on_event(_press(7, pressed), pressed + timedelta(hours=1)).alerts
    [second] = rule.on_event(_press(8, pressed + timedelta(minutes=2)), pressed).alerts
    assert first.alert_id == again.alert_id
    assert second.alert_id != first.alert_id
    assert first.kind is AlertKind.CALL_BUTTON and first.severity is Severity.CRITICAL
    assert first.alert_id < second.alert_id  # ids still sort in the order of the presses


def test_a_press_from_a_device_whose_clock_was_reset_still_raises() -> None:
    rule = CallButtonRule()
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    press = _press(1, datetime(1969, 12, 31, 23, 0, tzinfo=UTC))
    [alert] = rule.on_event(press, now).alerts
    assert alert.raised_at == now


def test_a_press_that_arrives_late_says_how_long_it_waited() -> None:
    rule = CallButtonRule()
    pressed = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    [late] = rule.on_event(_press(3, pressed), pressed + timedelta(minutes=42)).alerts
    assert "pressed 42 min before it arrived" in late.explanation.en
    assert "42分钟" in late.explanation.zh_cn
    [prompt] = rule.on_event(_press(4, pressed), pressed + timedelta(seconds=3)).alerts
    assert "before it arrived" not in prompt.explanation.en


def test_the_alert_text_names_the_press_in_words_never_the_raw_press_kind() -> None:
    """A raw "(single)" in the Chinese text was half a translation (issue 14)."""
    pressed = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    texts = {}
    for press in ("single", "double", "long"):
        event = _press(7, pressed).model_copy(update={"value": {"press": press}})
        alert = call_button_alert(event, pressed)
        assert alert is not None
        texts[press] = alert.explanation
    assert texts["single"].zh_cn == "呼叫按钮 btn-hall 被按下"
    assert texts["single"].en == "Call button btn-hall pressed"
    assert texts["double"].zh_cn == "呼叫按钮 btn-hall 被按下，连按两次"
    assert texts["long"].en == "Call button btn-hall pressed, held down"
    assert not any(raw in str(t) for t in texts.values() for raw in ("single", "double", "long"))

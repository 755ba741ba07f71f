"""一键呼: a call-button press is an alert in one hop, with no debounce beyond ``seq``."""

from __future__ import annotations

from datetime import datetime

from detector.alerts import stable_alert_id
from detector.rules import BaseRule, RuleOutput
from eldercare.models import (
    Alert,
    AlertKind,
    Event,
    EventType,
    Evidence,
    LocalizedText,
    Severity,
)


def call_button_alert(event: Event, raised_at: datetime) -> Alert | None:
    """The alert for a press, or None for any other event."""
    if event.type is not EventType.CALL_BUTTON:
        return None
    press = event.value.get("press", "single")
    # One press, one id: a redelivery of the same message (device, seq, device time) after
    # the first alert was resolved must not page everybody again.
    key = f"{event.device}|{event.seq}|{event.ts.isoformat()}"
    return Alert(
        alert_id=stable_alert_id(event.ts, event.home, AlertKind.CALL_BUTTON, key),
        home=event.home,
        kind=AlertKind.CALL_BUTTON,
        severity=Severity.CRITICAL,
        raised_at=raised_at,
        evidence=[Evidence(device=event.device, seq=event.seq, type=event.type.value)],
        explanation=LocalizedText(
            zh_cn=f"呼叫按钮 {event.device} 被按下（{press}）",
            en=f"Call button {event.device} pressed ({press})",
        ),
    )


class CallButtonRule(BaseRule):
    name = "call_button"
    kinds = frozenset({AlertKind.CALL_BUTTON})

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        alert = call_button_alert(event, now)
        return RuleOutput(alerts=[alert] if alert else [])

"""一键呼: a call-button press is an alert in one hop, with no debounce beyond ``seq``."""

from __future__ import annotations

from datetime import datetime, timedelta

from detector.alerts import duration_en, duration_zh, stable_alert_id
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

#: A press older than this when it reaches us is named late: staff must know it may have
#: waited (a terminal that was offline flushes its buffer on reconnect).
LATE_AFTER = timedelta(minutes=2)
#: How a press is said beyond a plain one (the gateway's press kinds); a single press, the
#: usual one, adds nothing, and a kind not listed here is not shown as a raw word.
PRESS_WORDS = {
    "double": ("，连按两次", ", pressed twice"),
    "triple": ("，连按三次", ", pressed three times"),
    "quadruple": ("，连按四次", ", pressed four times"),
    "many": ("，连按多次", ", pressed many times"),
    "long": ("，长按", ", held down"),
}


def call_button_alert(event: Event, raised_at: datetime) -> Alert | None:
    """The alert for a press, or None for any other event."""
    if event.type is not EventType.CALL_BUTTON:
        return None
    press_zh, press_en = PRESS_WORDS.get(str(event.value.get("press", "single")), ("", ""))
    # One press, one id: a redelivery of the same message (device, seq, device time) after
    # the first alert was resolved must not page everybody again.
    key = f"{event.device}|{event.seq}|{event.ts.isoformat()}"
    waited = raised_at - event.ts
    late_zh = late_en = ""
    if waited > LATE_AFTER:
        hours = waited.total_seconds() / 3600
        late_zh = f"；按下后 {duration_zh(hours)} 才收到（终端曾离线），请尽快联系"
        late_en = f"; pressed {duration_en(hours)} before it arrived (terminal was offline)"
    return Alert(
        alert_id=stable_alert_id(event.ts, event.home, AlertKind.CALL_BUTTON, key),
        home=event.home,
        kind=AlertKind.CALL_BUTTON,
        severity=Severity.CRITICAL,
        raised_at=raised_at,
        evidence=[Evidence(device=event.device, seq=event.seq, type=event.type.value)],
        explanation=LocalizedText(
            zh_cn=f"呼叫按钮 {event.device} 被按下{press_zh}{late_zh}",
            en=f"Call button {event.device} pressed{press_en}{late_en}",
        ),
    )


class CallButtonRule(BaseRule):
    name = "call_button"
    kinds = frozenset({AlertKind.CALL_BUTTON})

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        alert = call_button_alert(event, now)
        return RuleOutput(alerts=[alert] if alert else [])

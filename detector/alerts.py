"""Alert construction shared by the rules that watch what does not happen.

Alert ids are ULIDs whose random part is a hash of (home, kind, what it is about) and whose
time part is the ``at`` given. A rule that passes the trigger's own time (the call button's
press, a fall's suspicion) gets one id per trigger: a redelivery is dropped by alerting even
after the first alert was resolved. Timer rules pass the moment of the raise; their
checkpointed pending state is what keeps them from raising a finding twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from ulid import ULID

from eldercare.models import Alert, AlertKind, Evidence, LocalizedText, Severity


def stable_alert_id(at: datetime, home: str, kind: AlertKind, key: str) -> str:
    """The same (home, kind, key) at the same moment always gives the same id.

    The time part keeps ids sorting in the order things happened; a device clock before
    1970 (a pendant that lost its time) is clamped instead of failing.
    """
    millis = max(0, int(at.timestamp() * 1000)).to_bytes(6, "big")
    digest = hashlib.blake2b(f"{home}|{kind}|{key}".encode(), digest_size=10).digest()
    return str(ULID.from_bytes(millis + digest))


def make_alert(
    *,
    home: str,
    kind: AlertKind,
    severity: Severity,
    at: datetime,
    key: str,
    zh: str,
    en: str,
    evidence: list[Evidence] | None = None,
    context: dict[str, Any] | None = None,
) -> Alert:
    return Alert(
        alert_id=stable_alert_id(at, home, kind, key),
        home=home,
        kind=kind,
        severity=severity,
        raised_at=at,
        evidence=evidence or [],
        explanation=LocalizedText(zh_cn=zh[:500], en=en[:500]),
        context=context,
    )


def duration_en(hours: float) -> str:
    minutes = round(hours * 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def duration_zh(hours: float) -> str:
    minutes = round(hours * 60)
    if minutes < 60:
        return f"{minutes}分钟"
    return f"{minutes // 60}小时{minutes % 60:02d}分钟"

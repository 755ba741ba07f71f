"""Staff's verdict on an alert, as alerting hands it back to the detector (issue 20)."""

from __future__ import annotations

from datetime import timedelta

from eldercare.models import Alert, AlertStatus, AlertUpdate, Outcome


def verdict(alert: Alert, outcome: Outcome) -> AlertUpdate:
    """``alert`` resolved on the dashboard 20 minutes after it was raised, with ``outcome``."""
    return AlertUpdate(
        alert_id=alert.alert_id,
        home=alert.home,
        status=AlertStatus.RESOLVED,
        at=alert.raised_at + timedelta(minutes=20),
        actor="王芳",
        channel="dashboard",
        outcome=outcome,
        context=alert.context,
    )

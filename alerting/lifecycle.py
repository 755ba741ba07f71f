"""Which lifecycle steps are allowed (DESIGN §5). Pure, so the rules are tested alone."""

from __future__ import annotations

from eldercare.models import AlertStatus

_ACTIVE = frozenset({AlertStatus.OPEN, AlertStatus.NOTIFIED, AlertStatus.ESCALATED})
_ALLOWED: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.NOTIFIED: _ACTIVE,
    AlertStatus.ESCALATED: _ACTIVE,
    # An expired alert may still be taken or closed by a person who comes to it late.
    AlertStatus.ACKNOWLEDGED: _ACTIVE | {AlertStatus.EXPIRED},
    AlertStatus.RESOLVED: _ACTIVE | {AlertStatus.ACKNOWLEDGED, AlertStatus.EXPIRED},
    AlertStatus.EXPIRED: _ACTIVE,
}


class TransitionRefused(Exception):
    """The alert is not in a state that allows this step (e.g. acknowledging twice)."""


def allowed_from(target: AlertStatus) -> frozenset[AlertStatus]:
    """The states from which ``target`` may be reached."""
    return _ALLOWED.get(target, frozenset())


def check_transition(current: AlertStatus, target: AlertStatus) -> None:
    if current not in allowed_from(target):
        raise TransitionRefused(f"cannot go from {current} to {target}")

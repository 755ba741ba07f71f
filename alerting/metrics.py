"""What alerting reports on ``/metrics``: notifications by outcome and escalation steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from alerting.outbox import RETRY
from eldercare.db.models import NotificationStatus
from eldercare.metrics import ALERTS_REJECTED, ESCALATION_STEPS, NOTIFICATIONS, Reading, Source
from eldercare.models import AlertStatus

if TYPE_CHECKING:  # alerting.service imports this module
    from alerting.escalation import Escalator
    from alerting.outbox import Outbox
    from alerting.service import AlertIntake

#: Reported from 0, so that "any failed?" is a query with an answer before the first failure.
OUTCOMES = (
    NotificationStatus.SENT,
    RETRY,
    NotificationStatus.FAILED,
    NotificationStatus.CANCELLED,
)
STEPS = (AlertStatus.NOTIFIED, AlertStatus.ESCALATED, AlertStatus.EXPIRED)


def alerting_readings(intake: AlertIntake, escalator: Escalator, outbox: Outbox) -> Source:
    def read() -> Iterator[Reading]:
        yield ALERTS_REJECTED, (), intake.rejected
        for outcome in dict.fromkeys([*OUTCOMES, *outbox.outcomes]):
            yield NOTIFICATIONS, (outcome,), outbox.outcomes[outcome]
        for status in dict.fromkeys([*map(str, STEPS), *escalator.steps]):
            yield ESCALATION_STEPS, (status,), escalator.steps[status]

    return read

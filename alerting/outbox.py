"""The notification sender: outbox rows out through their channels, with retries.

The pipeline per notification (after Alertmanager's): still needed? (an ack stops every
channel at once) → try the recipient's channels in order, failing over to the next
provider → record every attempt → sent, or retry with exponential backoff, or give up and
bring the next escalation tier forward. The idempotency key travels with every attempt,
so a receiver can drop the duplicate that a crash between "sent" and "recorded" causes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting import leases, notes, store
from alerting.channels import Delivery, Notifier
from alerting.escalation import instance_owner
from eldercare.clock import Clock
from eldercare.db.models import (
    NotificationPurpose,
    NotificationRow,
    NotificationStatus,
)
from eldercare.failures import until_the_database_answers
from eldercare.logs import get_logger
from eldercare.redaction import mask_urls

log = get_logger("alerting.outbox")

#: Long enough for one pass over all of a recipient's channels with their timeouts.
LEASE = timedelta(seconds=120)
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_MAX = timedelta(minutes=5)
MAX_ATTEMPTS = 6
#: A try's outcome that is no status: the row stays pending for its next attempt.
RETRY = "retry"


def backoff(attempts: int) -> timedelta:
    """Wait before try ``attempts + 1``: 5 s, 10 s, 20 s … capped at 5 min."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))


class Outbox:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, notifier: Notifier, owner: str | None = None
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.clock = clock
        self.notifier = notifier
        self.owner = owner or instance_owner()
        #: recorded attempts by outcome (sent, retry, failed, cancelled), for /metrics
        self.outcomes: Counter[str] = Counter()

    async def run_once(self) -> datetime | None:
        """Send everything due now; when to look again."""
        now = self.clock.now()
        async with self._sessions.begin() as session:
            claimed = await leases.claim_due(
                session,
                NotificationRow,
                NotificationRow.next_attempt_at,
                owner=self.owner,
                now=now,
                lease=LEASE,
            )
        results = await asyncio.gather(
            *(self._deliver(notification_id) for notification_id in claimed),
            return_exceptions=True,
        )
        for notification_id, result in zip(claimed, results, strict=True):
            if isinstance(result, Exception):
                # retried when its lease lapses; the others went out regardless
                log.error("delivery_failed", notification_id=notification_id, error=repr(result))
        async with self._sessions() as session:
            return await leases.next_due(
                session, NotificationRow, NotificationRow.next_attempt_at, self.clock.now()
            )

    async def _still_needed(self, alert_id: str) -> bool:
        async with self._sessions() as session:
            return await store.is_active(session, alert_id)

    async def _deliver(self, notification_id: int) -> None:
        async with self._sessions() as session:
            row = await store.notification(session, notification_id)
        attempts: list[tuple[datetime, Delivery]] = []
        asks = row.purpose == NotificationPurpose.ALERT  # "taken" notices go out regardless
        for url in row.channels:
            if asks and not await self._still_needed(row.alert_id):
                break
            delivery = await self.notifier.send(url, row.title, row.body, row.idempotency_key)
            attempts.append((self.clock.now(), delivery))
            if delivery.ok:
                break
        # The provider has the message now; if the record were lost, the row's lease would
        # lapse and it would go out again. So a database outage is waited out here.
        outcome = await until_the_database_answers(
            lambda: self._record(notification_id, attempts),
            "delivery_record_failed_retrying",
            notification_id=notification_id,
            alert_id=row.alert_id,
        )
        if outcome is not None:  # counted once committed: a retried record is not two sends
            self.outcomes[outcome] += 1

    async def _record(
        self, notification_id: int, attempts: list[tuple[datetime, Delivery]]
    ) -> str | None:
        """Record the attempts; the row's outcome, or None if another instance owns it now."""
        now = self.clock.now()
        async with self._sessions.begin() as session:
            row, alert = await store.end_lease(session, notification_id, self.owner)
            store.add_attempts(
                session, row.id, [(at, d.channel, d.ok, d.error) for at, d in attempts]
            )
            if row.owner != self.owner:
                return None  # our lease lapsed and another instance took over: its result counts
            row.owner = None
            fields = {"alert_id": alert.id, "home": alert.home_id, "recipient": row.recipient}
            if not attempts:
                row.status = NotificationStatus.CANCELLED  # acknowledged before we got to it
                return row.status
            row.attempts += 1
            sent = attempts[-1][1]
            # An ack may have cancelled the row while it was in flight; what happened on the
            # wire is recorded all the same, but nothing is retried for a taken alert.
            outcome = RETRY
            # Staff read these notes: whatever a notifier called its channel or put in its
            # error, no URL gets stored.
            if sent.ok:
                row.status, row.sent_at = NotificationStatus.SENT, now
                row.delivered_via = sent.channel[:300]
                outcome = row.status
                log.info("notification_sent", channel=sent.channel, attempt=row.attempts, **fields)
                note = notes.delivered(
                    row.recipient_name,
                    mask_urls(sent.channel),
                    row.attempts,
                    taken=row.purpose != NotificationPurpose.ALERT,
                )
            else:
                row.last_error = "; ".join(f"{d.channel}: {d.error}" for _, d in attempts)
                error = mask_urls(row.last_error)
                if row.status == NotificationStatus.CANCELLED:
                    outcome = row.status
                    note = notes.not_needed(row.recipient_name)
                elif row.attempts >= MAX_ATTEMPTS:
                    row.status = outcome = NotificationStatus.FAILED
                    if row.purpose == NotificationPurpose.ALERT:
                        await store.bring_next_tier_forward(session, alert.id, now)
                    log.error("notification_failed", error=row.last_error, **fields)
                    note = notes.unreachable(row.recipient_name, row.attempts, error)
                else:
                    wait = backoff(row.attempts)
                    row.next_attempt_at = now + wait
                    log.warning("notification_retry", error=row.last_error, **fields)
                    note = notes.retrying(
                        row.recipient_name, row.attempts, int(wait.total_seconds()), error
                    )
            store.add_note(session, alert, now, note)
            return outcome

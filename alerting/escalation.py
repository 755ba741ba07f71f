"""Escalation timers: plan the tiers when an alert is stored, fire them when they fall due.

Escalation is driven by "nobody has acknowledged", never by "a message was sent": every
tier is planned up front as a timer row, acknowledging cancels the rows that are left, and
a tier whose people cannot be reached brings the next one forward. Firing a tier writes
its notifications to the outbox in the same transaction, so a crash either fires the whole
tier or none of it, and a restart resumes exactly where it stopped.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from alerting import leases, notes, recipients, store
from alerting.messages import MessageFacts, render
from alerting.policies import PolicyBook, Target
from alerting.signed_links import AckClaim, AckLinks
from alerting.store import EXPIRE
from eldercare.clock import Clock
from eldercare.db.models import AlertRow, EscalationTimerRow
from eldercare.logs import get_logger
from eldercare.models import AlertKind, AlertStatus, AlertUpdate, Severity
from eldercare.vocabulary import DEFAULT_TIMEZONE
from gateway import registry_api

log = get_logger("alerting.escalation")

LEASE = timedelta(seconds=30)


def instance_owner() -> str:
    """Names this process in lease columns: readable in the database, unique per start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def plan_timers(session: Session, alert: AlertRow, policies: PolicyBook, *, new: bool) -> None:
    """(Re)plan the alert's tiers; tiers already fired stay fired.

    Called for a new alert, and again when an attached trigger raises the severity: the
    stricter policy then applies from the original raise time, so tiers it says are
    overdue fire at once. ``new``: the alert row was inserted in this transaction, so it
    has no timers to look up or replace (two statements a stored alert need not wait for).
    Sync: part of the one call that stores an alert (``AlertingApi.record``).
    """
    home = registry_api.home_now(session, alert.home_id)
    chosen = policies.choose(
        home.station_id if home else None,
        alert.home_id,
        AlertKind(alert.kind),
        Severity(alert.severity),
    )
    fired = None if new else store.last_fired_tier(session, alert.id)
    severity, timezone = Severity(alert.severity), home.timezone if home else DEFAULT_TIMEZONE
    planned = [
        (timer.tier, timer.target.value, timer.due_at)
        for timer in chosen.plan(severity, alert.raised_at, timezone)
    ]
    expires_at = chosen.expires_at(severity, alert.raised_at, timezone)
    if expires_at is not None:
        # after every tier, including ones fired under an earlier (laxer) plan
        planned.append((max(len(planned), (fired or 0) + 1), EXPIRE, expires_at))
    if not new:
        store.drop_unfired_timers(session, alert.id)
    store.add_timers(session, alert.id, [t for t in planned if fired is None or t[0] > fired])


async def _expire(session: AsyncSession, alert: AlertRow, now: datetime) -> list[AlertUpdate]:
    """Expire an alert that went through its tiers unanswered, but only if it reached
    someone: one that nobody has heard of stays open, on the wall, rather than going away
    unseen."""
    names = await store.told(session, alert.id)
    log_fields = {"alert_id": alert.id, "home": alert.home_id, "kind": alert.kind}
    late_s = int((now - alert.raised_at).total_seconds())
    if not names:
        log.warning("alert_not_expired_nobody_reached", **log_fields)
        store.add_note(session, alert, now, notes.not_expired(late_s))
        return []
    log.info("alert_expired", told=len(names), **log_fields)
    return [
        await store.transition(
            session,
            alert.id,
            AlertStatus.EXPIRED,
            now,
            actor=store.ALERTING,
            note=notes.expired(late_s, names),
        )
    ]


class Escalator:
    """Fires due timers of every alert; several instances may run against one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        policies: PolicyBook,
        links: AckLinks,
        owner: str | None = None,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.clock = clock
        self.policies = policies
        self.links = links
        self.owner = owner or instance_owner()
        #: fired timers by the status they gave their alert (notified, escalated, expired)
        self.steps: Counter[str] = Counter()

    async def run_once(self) -> tuple[list[AlertUpdate], datetime | None]:
        """Fire everything due now; the updates to publish and when to look again."""
        now = self.clock.now()
        async with self._sessions.begin() as session:
            claimed = await leases.claim_due(
                session,
                EscalationTimerRow,
                EscalationTimerRow.due_at,
                owner=self.owner,
                now=now,
                lease=LEASE,
            )
        updates: list[AlertUpdate] = []
        for timer_id in claimed:
            try:
                async with self._sessions.begin() as session:
                    fired = await self._fire(session, timer_id, now)
                updates.extend(fired)
                self.steps.update(str(update.status) for update in fired)  # once committed
            except Exception:
                # One broken alert must not hold back every other alert's escalation; this
                # timer stays leased and is tried again when the lease lapses.
                log.exception("timer_failed", timer_id=timer_id)
        async with self._sessions() as session:
            due = await leases.next_due(
                session, EscalationTimerRow, EscalationTimerRow.due_at, self.clock.now()
            )
        return updates, due

    async def _fire(self, session: AsyncSession, timer_id: int, now: datetime) -> list[AlertUpdate]:
        fired = await store.fire_timer(session, timer_id, self.owner, now)
        if fired is None:
            return []  # cancelled by an ack, or our lease lapsed and someone else has it
        alert, timer = fired
        if timer.target == EXPIRE:
            return await _expire(session, alert, now)
        home = await registry_api.home(session, alert.home_id)
        chosen = self.policies.choose(
            home.station_id if home else None,
            alert.home_id,
            AlertKind(alert.kind),
            Severity(alert.severity),
        )
        target = Target(timer.target)
        people = [
            person
            for person in await recipients.resolve(session, target, home, chosen.channels)
            if person.channels
        ]
        log_fields = {"alert_id": alert.id, "home": alert.home_id, "tier": timer.tier}
        late_s = int((now - alert.raised_at).total_seconds())
        if not people:
            log.error("tier_has_nobody", target=target.value, **log_fields)
            await store.bring_next_tier_forward(session, alert.id, now)
            store.add_note(session, alert, now, notes.tier_nobody(timer.tier, target.value, late_s))
            return []
        await self._enqueue(session, alert, home, timer, people, now)
        status = AlertStatus.NOTIFIED if alert.status == AlertStatus.OPEN else AlertStatus.ESCALATED
        log.info("tier_fired", target=target.value, recipients=len(people), **log_fields)
        names = [person.name for person in people]
        note = notes.tier_fired(timer.tier, target.value, late_s, names)
        return [await store.set_status(session, alert, status, now, note=note)]

    async def _enqueue(
        self,
        session: AsyncSession,
        alert: AlertRow,
        home: registry_api.HomeRow | None,
        timer: EscalationTimerRow,
        people: Sequence[recipients.Recipient],
        now: datetime,
    ) -> None:
        resident_names = tuple(await registry_api.resident_names(session, alert.home_id))
        for person in people:
            claim = AckClaim(alert.id, person.key, person.name, person.language)
            facts = MessageFacts(
                alert_id=alert.id,
                kind=AlertKind(alert.kind),
                severity=Severity(alert.severity),
                explanation=alert.explanation,
                raised_at=alert.raised_at,
                home_id=alert.home_id,
                home_name=home.name if home else "",
                address=home.address if home else "",
                residents=resident_names,
                timezone=home.timezone if home else DEFAULT_TIMEZONE,
                ack_url=self.links.url(claim, now),
                now=now,
            )
            title, body = render(facts, person.language)
            message = store.Message(
                person.key, person.name, person.language, person.channels, title[:300], body
            )
            key = f"{alert.id}.t{timer.tier}.{person.key}"
            store.enqueue(session, alert.id, timer.tier, key, message, now)

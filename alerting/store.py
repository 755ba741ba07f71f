"""All queries on the alert tables live here (alerts, their triggers and timeline, escalation
timers, notifications and their delivery attempts); nothing else writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, delete, exists, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from alerting import notes
from alerting.lifecycle import TransitionRefused, allowed_from, check_transition
from alerting.notes import Note
from eldercare.db.models import (
    AlertEventRow,
    AlertRow,
    AlertTriggerRow,
    DeliveryAttemptRow,
    EscalationTimerRow,
    NotificationPurpose,
    NotificationRow,
    NotificationStatus,
    TimerStatus,
)
from eldercare.models import Alert, AlertKind, AlertStatus, AlertUpdate, Severity

ACTIVE_STATUSES = tuple(s.value for s in AlertStatus if s.is_active)
#: The actor of the steps the services take themselves (a screen names them in its language).
DETECTOR, ALERTING = "detector", "alerting"
#: The ``target`` of the timer row that expires an alert after its last tier (not a
#: policy ``Target``: nobody is notified when it fires).
EXPIRE = "expire"


class AlertNotFound(LookupError):
    pass


#: A step's note: a person's free text, or alerting's own as a fact (``alerting.notes``).
NoteLike = str | Note | None


@dataclass(frozen=True, slots=True)
class Step:
    """One lifecycle step of an alert, kept twice: as a row of its timeline (``audit``) and
    as the update published on the bus (``update``)."""

    status: AlertStatus
    at: datetime
    actor: str | None = None
    channel: str | None = None
    note: NoteLike = None

    def audit(self, row: AlertRow) -> AlertEventRow:
        note = self.note
        written = note.columns() if isinstance(note, Note) else {"note": note}
        return AlertEventRow(
            alert_id=row.id,
            at=self.at,
            status=self.status.value,
            actor=self.actor,
            channel=self.channel,
            **written,
        )

    def update(self, row: AlertRow) -> AlertUpdate:
        """The step as published; a resolved one carries the verdict and the detector's
        context (what the detector needs to learn from it, DESIGN §1: no service reads
        another's tables). A note travels as its English line; the fact stays in the audit
        row."""
        resolved = self.status is AlertStatus.RESOLVED
        note = self.note
        return AlertUpdate(
            alert_id=row.id,
            home=row.home_id,
            status=self.status,
            at=self.at,
            actor=self.actor,
            channel=self.channel,
            note=note.columns()["note"] if isinstance(note, Note) else note,
            outcome=row.outcome if resolved else None,
            context=row.context if resolved else None,
        )


def take(session: AsyncSession | Session, row: AlertRow, step: Step) -> AlertUpdate:
    """Write the step into the alert's timeline; the update to publish."""
    session.add(step.audit(row))
    return step.update(row)


def add_note(session: AsyncSession, row: AlertRow, at: datetime, note: Note) -> None:
    """Alerting's own fact in the timeline (a retry, a tier with nobody), no status change."""
    session.add(Step(AlertStatus(row.status), at, actor=ALERTING, note=note).audit(row))


async def get_alert(session: AsyncSession, alert_id: str) -> AlertRow:
    row = await session.get(AlertRow, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    return row


async def is_active(session: AsyncSession, alert_id: str) -> bool:
    """Still waiting for someone to take it (so its notifications are still needed)."""
    status = await session.scalar(select(AlertRow.status).where(AlertRow.id == alert_id))
    return status is not None and AlertStatus(status).is_active


@dataclass(frozen=True, slots=True)
class Recorded:
    """What storing a trigger did: the update to publish, and whether the escalation plan
    must be (re)made (a new alert, or an attached trigger that raised the severity)."""

    update: AlertUpdate
    row: AlertRow
    needs_plan: bool
    #: The alert row was inserted by this transaction, so it has no timers yet.
    new: bool = False


def _seen_and_open_query() -> Select[tuple[bool, AlertRow]]:
    """Whether a trigger was stored before and, if not, the open alert of its home and kind
    it would attach to: one statement (each is a trip to the driver, aiosqlite's thread, and
    a burst's stores hold the life-safety lane's behind them), built once."""
    seen = select(
        exists().where(AlertTriggerRow.trigger_id == bindparam("trigger")).label("seen")
    ).subquery()
    return (
        select(seen.c.seen, AlertRow)
        .select_from(seen)
        .outerjoin(
            AlertRow,
            and_(
                ~seen.c.seen,  # a redelivery needs no alert loaded
                AlertRow.home_id == bindparam("home"),
                AlertRow.kind == bindparam("kind"),
                AlertRow.status.in_(ACTIVE_STATUSES),
            ),
        )
        .order_by(AlertRow.raised_at)
        .limit(1)
    )


_SEEN_AND_OPEN = _seen_and_open_query()


def record_alert(session: Session, alert: Alert, now: datetime) -> Recorded | None:
    """Store a raised alert, or attach it to the open one of the same kind for the home.

    Returns None when this trigger was stored before, as an alert or attached to one (a
    QoS 1 redelivery after a restart must not count as a second trigger). Sync: the whole
    store is one call to the database (``eldercare.db.one_call``).
    """
    found = session.execute(
        _SEEN_AND_OPEN,
        {"trigger": alert.alert_id, "home": alert.home, "kind": alert.kind.value},
    )
    stored, existing = found.one()
    if stored:
        return None
    evidence = [item.model_dump(by_alias=True) for item in alert.evidence]
    if existing is not None:
        existing.trigger_count += 1
        existing.evidence = [*existing.evidence, *evidence]
        existing.updated_at = now
        raised = alert.severity.rank > Severity(existing.severity).rank
        note = notes.trigger_attached(
            alert.alert_id,
            existing.severity if raised else None,
            alert.severity.value if raised else None,
        )
        if raised:
            existing.severity = alert.severity.value
        status = AlertStatus(existing.status)
        session.add(
            AlertTriggerRow(trigger_id=alert.alert_id, alert_id=existing.id, received_at=now)
        )
        update = take(session, existing, Step(status, now, actor=DETECTOR, note=note))
        return Recorded(update, existing, raised)
    row = AlertRow(
        id=alert.alert_id,
        home_id=alert.home,
        kind=alert.kind.value,
        severity=alert.severity.value,
        status=AlertStatus.OPEN.value,
        raised_at=alert.raised_at,
        updated_at=now,
        trigger_count=1,
        explanation=alert.explanation.model_dump(by_alias=True),
        evidence=evidence,
        context=alert.context,
    )
    session.add(row)
    session.flush()  # the alert row must exist before its audit row (foreign key)
    session.add(AlertTriggerRow(trigger_id=row.id, alert_id=row.id, received_at=now))
    update = take(session, row, Step(AlertStatus.OPEN, now, actor=DETECTOR))
    return Recorded(update, row, needs_plan=True, new=True)


async def transition(
    session: AsyncSession,
    alert_id: str,
    target: AlertStatus,
    at: datetime,
    *,
    actor: str | None = None,
    channel: str | None = None,
    note: NoteLike = None,
    outcome: str | None = None,
) -> AlertUpdate:
    """Move an alert one lifecycle step, with its audit row, or raise TransitionRefused.

    Leaving the active states stops everything at once, in the same transaction: pending
    escalation tiers and unsent notifications are cancelled, so nobody is called after
    someone has taken responsibility.
    """
    # Compare-and-set in one UPDATE: two people acknowledging at the same instant cannot
    # both win, on SQLite (which has no row locks) as on PostgreSQL.
    values: dict[str, object] = {"status": target.value, "updated_at": at}
    if target is AlertStatus.ACKNOWLEDGED:
        values |= {"acknowledged_by": actor, "acknowledged_at": at}
    elif target is AlertStatus.RESOLVED:
        values |= {"resolved_at": at, "outcome": outcome}
    allowed = [status.value for status in allowed_from(target)]
    changed = await session.execute(
        sql_update(AlertRow)
        .where(AlertRow.id == alert_id, AlertRow.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    row = await session.get(AlertRow, alert_id, populate_existing=True)
    if row is None:
        raise AlertNotFound(alert_id)
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise TransitionRefused(f"cannot go from {row.status} to {target}")
    if not target.is_active:
        await stop_escalation(session, alert_id)
    return take(session, row, Step(target, at, actor=actor, channel=channel, note=note))


async def stop_escalation(session: AsyncSession, alert_id: str) -> None:
    await session.execute(
        sql_update(EscalationTimerRow)
        .where(
            EscalationTimerRow.alert_id == alert_id,
            EscalationTimerRow.status == TimerStatus.PENDING,
        )
        .values(status=TimerStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        sql_update(NotificationRow)
        .where(
            NotificationRow.alert_id == alert_id,
            NotificationRow.status == NotificationStatus.PENDING,
            NotificationRow.purpose == NotificationPurpose.ALERT,  # "taken" ones still go out
        )
        .values(status=NotificationStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


async def told(session: AsyncSession, alert_id: str) -> list[str]:
    """Names of the people an alert's notifications reached, in the order they were asked."""
    return list(dict.fromkeys(row.recipient_name for row in await sent_asks(session, alert_id)))


async def set_status(
    session: AsyncSession, row: AlertRow, status: AlertStatus, at: datetime, *, note: Note
) -> AlertUpdate:
    """An active-to-active step taken by alerting itself (notified, escalated)."""
    check_transition(AlertStatus(row.status), status)
    row.status, row.updated_at = status.value, at
    return take(session, row, Step(status, at, actor=ALERTING, note=note))


async def open_alert(session: AsyncSession, home: str, kind: str) -> AlertRow | None:
    """The active (not yet acknowledged) alert of this kind for this home, if any."""
    return await session.scalar(
        select(AlertRow)
        .where(
            AlertRow.home_id == home,
            AlertRow.kind == kind,
            AlertRow.status.in_([*ACTIVE_STATUSES, AlertStatus.ACKNOWLEDGED.value]),
        )
        .order_by(AlertRow.raised_at)
        .limit(1)
    )


async def list_alerts(
    session: AsyncSession, *, unresolved_only: bool, home: str | None, limit: int
) -> Sequence[AlertRow]:
    query = select(AlertRow).order_by(AlertRow.raised_at.desc()).limit(limit)
    if unresolved_only:
        query = query.where(AlertRow.status.in_([*ACTIVE_STATUSES, AlertStatus.ACKNOWLEDGED.value]))
    if home:
        query = query.where(AlertRow.home_id == home)
    return (await session.scalars(query)).all()


async def alerts_since(
    session: AsyncSession, homes: Sequence[str], since: datetime
) -> Sequence[AlertRow]:
    """The homes' alerts raised since ``since``, newest first (system alerts are ours)."""
    query = (
        select(AlertRow)
        .where(
            AlertRow.home_id.in_(homes),
            AlertRow.raised_at >= since,
            AlertRow.kind != AlertKind.SYSTEM.value,
        )
        .order_by(AlertRow.raised_at.desc())
    )
    return (await session.scalars(query)).all()


async def count_raised(session: AsyncSession, home: str, start: datetime, end: datetime) -> int:
    """How many alerts the home raised in [start, end)."""
    count = await session.scalar(
        select(func.count())
        .select_from(AlertRow)
        .where(AlertRow.home_id == home, AlertRow.raised_at >= start, AlertRow.raised_at < end)
    )
    return count or 0


async def timeline(session: AsyncSession, alert_id: str) -> Sequence[AlertEventRow]:
    """Steps in the order they were recorded. Not by ``at``: a step's time is taken before
    its transaction waits for the alert's lock, so an escalation that won the lock just
    before an ack may carry a slightly later time than the ack that followed it."""
    query = (
        select(AlertEventRow).where(AlertEventRow.alert_id == alert_id).order_by(AlertEventRow.id)
    )
    return (await session.scalars(query)).all()


async def resident_alerts(session: AsyncSession) -> list[AlertRow]:
    """Every alert about a resident (not our own services' ``system`` alerts)."""
    query = select(AlertRow).where(AlertRow.kind != AlertKind.SYSTEM.value)
    return list(await session.scalars(query))


# Escalation timers ----------------------------------------------------------------------
def last_fired_tier(session: Session, alert_id: str) -> int | None:
    return session.scalar(
        select(func.max(EscalationTimerRow.tier)).where(
            EscalationTimerRow.alert_id == alert_id,
            EscalationTimerRow.status == TimerStatus.FIRED,
        )
    )


def drop_unfired_timers(session: Session, alert_id: str) -> None:
    """Before a re-plan: the alert's timers that have not fired go (fired ones stay)."""
    session.execute(
        delete(EscalationTimerRow).where(
            EscalationTimerRow.alert_id == alert_id,
            EscalationTimerRow.status != TimerStatus.FIRED,
        )
    )


def add_timers(
    session: Session, alert_id: str, planned: Sequence[tuple[int, str, datetime]]
) -> None:
    """The alert's ``planned`` timers (tier, target, due), pending, in one executemany: as
    ORM objects SQLite inserted them one statement each (their ids, never read here, were
    fetched back)."""
    if not planned:
        return
    session.execute(
        insert(EscalationTimerRow),
        [
            {
                "alert_id": alert_id,
                "tier": tier,
                "target": target,
                "due_at": due_at,
                "status": TimerStatus.PENDING,
            }
            for tier, target, due_at in planned
        ],
    )


async def bring_next_tier_forward(session: AsyncSession, alert_id: str, now: datetime) -> None:
    """Nobody could be reached: do not wait out the clock before asking the next people."""
    await session.execute(
        sql_update(EscalationTimerRow)
        .where(
            EscalationTimerRow.id
            == select(EscalationTimerRow.id)
            .where(
                EscalationTimerRow.alert_id == alert_id,
                EscalationTimerRow.status == TimerStatus.PENDING,
                EscalationTimerRow.target != EXPIRE,  # unreachable people are no reason to expire
            )
            .order_by(EscalationTimerRow.tier)
            .limit(1)
            .scalar_subquery(),
            EscalationTimerRow.due_at > now,
        )
        .values(due_at=now)
        .execution_options(synchronize_session=False)
    )


async def fire_timer(
    session: AsyncSession, timer_id: int, owner: str, now: datetime
) -> tuple[AlertRow, EscalationTimerRow] | None:
    """Mark a leased timer fired; its alert (as of now, locked) and the timer. None when an
    ack cancelled it (or took the alert while it was leased: it is cancelled now), or our
    lease lapsed and another instance has it.

    Lock order is alert, then its timers — the same as an acknowledgement's — so the two
    never deadlock on PostgreSQL. (SQLite serialises from the first write below.)
    """
    alert_id = await session.scalar(
        select(EscalationTimerRow.alert_id).where(EscalationTimerRow.id == timer_id)
    )
    alert = await session.scalar(
        select(AlertRow).where(AlertRow.id == alert_id).with_for_update(key_share=True)
    )
    taken = await session.execute(
        sql_update(EscalationTimerRow)
        .where(
            EscalationTimerRow.id == timer_id,
            EscalationTimerRow.status == TimerStatus.PENDING,
            EscalationTimerRow.owner == owner,
        )
        .values(status=TimerStatus.FIRED, fired_at=now)
        .execution_options(synchronize_session=False)
    )
    if alert is None or taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await session.refresh(alert)  # as of now, under the lock / write transaction
    timer = await session.get(EscalationTimerRow, timer_id)
    assert timer is not None
    if not AlertStatus(alert.status).is_active:
        timer.status = TimerStatus.CANCELLED
        return None
    return alert, timer


# Notifications --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Message:
    """A message for one person, as the outbox will send it."""

    recipient: str  # staff:<id> | contact:<id> | emergency
    recipient_name: str
    language: str
    channels: Sequence[str]  # apprise URLs in failover order
    title: str
    body: str


def enqueue(
    session: AsyncSession,
    alert_id: str,
    tier: int,
    key: str,
    message: Message,
    now: datetime,
    *,
    purpose: NotificationPurpose = NotificationPurpose.ALERT,
) -> None:
    """Put a message in the outbox, due now; ``key`` is its idempotency key."""
    session.add(
        NotificationRow(
            alert_id=alert_id,
            tier=tier,
            purpose=purpose,
            idempotency_key=key,
            recipient=message.recipient,
            recipient_name=message.recipient_name,
            language=message.language,
            channels=list(message.channels),
            title=message.title,
            body=message.body,
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


async def notification(session: AsyncSession, notification_id: int) -> NotificationRow:
    row = await session.get(NotificationRow, notification_id)
    assert row is not None  # rows are never deleted but with their alert
    return row


async def end_lease(
    session: AsyncSession, notification_id: int, owner: str
) -> tuple[NotificationRow, AlertRow]:
    """Release our lease on a notification taken for sending; the row and its alert. The
    row's ``owner`` says whether it was still ours (another instance may have taken over).

    Takes the row (and SQLite's write lock) before reading anything else.
    """
    await session.execute(
        sql_update(NotificationRow)
        .where(NotificationRow.id == notification_id, NotificationRow.owner == owner)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )
    row = await notification(session, notification_id)
    return row, await get_alert(session, row.alert_id)


def add_attempts(
    session: AsyncSession,
    notification_id: int,
    attempts: Sequence[tuple[datetime, str, bool, str | None]],
) -> None:
    """One delivery record per channel tried: (at, channel, ok, error)."""
    session.add_all(
        DeliveryAttemptRow(
            notification_id=notification_id, at=at, channel=channel[:300], ok=ok, error=error
        )
        for at, channel, ok, error in attempts
    )


async def sent_asks(session: AsyncSession, alert_id: str) -> Sequence[NotificationRow]:
    """The alert's notifications that asked someone for a response and reached them."""
    return (
        await session.scalars(
            select(NotificationRow)
            .where(
                NotificationRow.alert_id == alert_id,
                NotificationRow.purpose == NotificationPurpose.ALERT,
                NotificationRow.status == NotificationStatus.SENT,
            )
            .order_by(NotificationRow.id)
        )
    ).all()


async def notifications(
    session: AsyncSession, alert_id: str
) -> list[tuple[NotificationRow, list[DeliveryAttemptRow]]]:
    """The alert's notifications by tier, each with its delivery attempts in order."""
    rows = (
        await session.scalars(
            select(NotificationRow)
            .where(NotificationRow.alert_id == alert_id)
            .order_by(NotificationRow.tier, NotificationRow.id)
        )
    ).all()
    attempts = (
        await session.scalars(
            select(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.notification_id.in_([r.id for r in rows]))
            .order_by(DeliveryAttemptRow.id)
        )
    ).all()
    return [(row, [a for a in attempts if a.notification_id == row.id]) for row in rows]

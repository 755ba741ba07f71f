"""All queries on the alert tables live here; nothing else writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from alerting import notes
from alerting.lifecycle import TransitionRefused, allowed_from, check_transition
from alerting.notes import Note
from eldercare.db.models import (
    AlertEventRow,
    AlertRow,
    AlertTriggerRow,
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


class AlertNotFound(LookupError):
    pass


#: A step's note: a person's free text, or alerting's own as a fact (``alerting.notes``).
NoteLike = str | Note | None


def audit(
    row: AlertRow,
    status: AlertStatus,
    at: datetime,
    *,
    actor: str | None = None,
    channel: str | None = None,
    note: NoteLike = None,
) -> AlertEventRow:
    written = note.columns() if isinstance(note, Note) else {"note": note}
    return AlertEventRow(
        alert_id=row.id, at=at, status=status.value, actor=actor, channel=channel, **written
    )


def update_of(
    row: AlertRow,
    status: AlertStatus,
    at: datetime,
    *,
    actor: str | None = None,
    channel: str | None = None,
    note: NoteLike = None,
) -> AlertUpdate:
    """The step as published; a resolved one carries the verdict and the detector's context
    (what the detector needs to learn from it, DESIGN §1: no service reads another's tables).
    A note travels as its English line; the fact stays in the audit row."""
    resolved = status is AlertStatus.RESOLVED
    return AlertUpdate(
        alert_id=row.id,
        home=row.home_id,
        status=status,
        at=at,
        actor=actor,
        channel=channel,
        note=note.columns()["note"] if isinstance(note, Note) else note,
        outcome=row.outcome if resolved else None,
        context=row.context if resolved else None,
    )


@dataclass(frozen=True, slots=True)
class Recorded:
    """What storing a trigger did: the update to publish, and whether the escalation plan
    must be (re)made (a new alert, or an attached trigger that raised the severity)."""

    update: AlertUpdate
    row: AlertRow
    needs_plan: bool


async def record_alert(session: AsyncSession, alert: Alert, now: datetime) -> Recorded | None:
    """Store a raised alert, or attach it to the open one of the same kind for the home.

    Returns None when this trigger was stored before, as an alert or attached to one (a
    QoS 1 redelivery after a restart must not count as a second trigger).
    """
    if await session.get(AlertTriggerRow, alert.alert_id) is not None:
        return None
    evidence = [item.model_dump(by_alias=True) for item in alert.evidence]
    existing = await session.scalar(
        select(AlertRow)
        .where(
            AlertRow.home_id == alert.home,
            AlertRow.kind == alert.kind.value,
            AlertRow.status.in_(ACTIVE_STATUSES),
        )
        .order_by(AlertRow.raised_at)
        .limit(1)
    )
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
        session.add(audit(existing, status, now, note=note, actor=DETECTOR))
        return Recorded(
            update_of(existing, status, now, note=note, actor=DETECTOR), existing, raised
        )
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
    await session.flush()  # the alert row must exist before its audit row (foreign key)
    session.add(AlertTriggerRow(trigger_id=row.id, alert_id=row.id, received_at=now))
    session.add(audit(row, AlertStatus.OPEN, now, actor=DETECTOR))
    return Recorded(update_of(row, AlertStatus.OPEN, now, actor=DETECTOR), row, True)


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
    session.add(audit(row, target, at, actor=actor, channel=channel, note=note))
    return update_of(row, target, at, actor=actor, channel=channel, note=note)


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
    names = await session.scalars(
        select(NotificationRow.recipient_name)
        .where(
            NotificationRow.alert_id == alert_id,
            NotificationRow.purpose == NotificationPurpose.ALERT,
            NotificationRow.status == NotificationStatus.SENT,
        )
        .order_by(NotificationRow.id)
    )
    return list(dict.fromkeys(names))


async def set_status(
    session: AsyncSession, row: AlertRow, status: AlertStatus, at: datetime, *, note: Note
) -> AlertUpdate:
    """An active-to-active step taken by alerting itself (notified, escalated)."""
    check_transition(AlertStatus(row.status), status)
    row.status, row.updated_at = status.value, at
    session.add(audit(row, status, at, actor=ALERTING, note=note))
    return update_of(row, status, at, actor=ALERTING, note=note)


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

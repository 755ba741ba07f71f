"""All queries on the alert tables live here; nothing else writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.lifecycle import check_transition
from eldercare.db.models import AlertEventRow, AlertRow
from eldercare.models import Alert, AlertStatus, AlertUpdate, Severity

ACTIVE_STATUSES = tuple(s.value for s in AlertStatus if s.is_active)


class AlertNotFound(LookupError):
    pass


def _audit(
    row: AlertRow, status: AlertStatus, at: datetime, **details: str | None
) -> AlertEventRow:
    return AlertEventRow(alert_id=row.id, at=at, status=status.value, **details)


def _update(row: AlertRow, status: AlertStatus, at: datetime, **details: str | None) -> AlertUpdate:
    return AlertUpdate(alert_id=row.id, home=row.home_id, status=status, at=at, **details)


async def record_alert(session: AsyncSession, alert: Alert, now: datetime) -> AlertUpdate | None:
    """Store a raised alert, or attach it to the open one of the same kind for the home.

    Returns the update to publish, or None when this exact alert was stored before (a QoS 1
    redelivery after a restart must not count as a second trigger).
    """
    if await session.get(AlertRow, alert.alert_id) is not None:
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
        if alert.severity.rank > Severity(existing.severity).rank:
            existing.severity = alert.severity.value
        note = f"another trigger attached ({alert.alert_id})"
        status = AlertStatus(existing.status)
        session.add(_audit(existing, status, now, note=note, actor="detector"))
        return _update(existing, status, now, note=note, actor="detector")
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
    )
    session.add(row)
    await session.flush()  # the alert row must exist before its audit row (foreign key)
    session.add(_audit(row, AlertStatus.OPEN, now, actor="detector"))
    return _update(row, AlertStatus.OPEN, now, actor="detector")


async def transition(
    session: AsyncSession,
    alert_id: str,
    target: AlertStatus,
    at: datetime,
    *,
    actor: str | None = None,
    channel: str | None = None,
    note: str | None = None,
) -> AlertUpdate:
    """Move an alert one lifecycle step, with its audit row, or raise TransitionRefused."""
    row = await session.get(AlertRow, alert_id, with_for_update=True)
    if row is None:
        raise AlertNotFound(alert_id)
    check_transition(AlertStatus(row.status), target)
    row.status = target.value
    row.updated_at = at
    if target is AlertStatus.ACKNOWLEDGED:
        row.acknowledged_by, row.acknowledged_at = actor, at
    elif target is AlertStatus.RESOLVED:
        row.resolved_at = at
    session.add(_audit(row, target, at, actor=actor, channel=channel, note=note))
    return _update(row, target, at, actor=actor, channel=channel, note=note)


async def list_alerts(
    session: AsyncSession, *, unresolved_only: bool, home: str | None, limit: int
) -> Sequence[AlertRow]:
    query = select(AlertRow).order_by(AlertRow.raised_at.desc()).limit(limit)
    if unresolved_only:
        query = query.where(AlertRow.status.in_([*ACTIVE_STATUSES, AlertStatus.ACKNOWLEDGED.value]))
    if home:
        query = query.where(AlertRow.home_id == home)
    return (await session.scalars(query)).all()


async def timeline(session: AsyncSession, alert_id: str) -> Sequence[AlertEventRow]:
    query = (
        select(AlertEventRow)
        .where(AlertEventRow.alert_id == alert_id)
        .order_by(AlertEventRow.at, AlertEventRow.id)
    )
    return (await session.scalars(query)).all()

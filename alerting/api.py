"""The public face of alerting: the only way the dashboard (or anything else) reads or
changes alerts, so table layout and lifecycle rules stay private to this package."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting import store
from alerting.lifecycle import TransitionRefused
from alerting.store import AlertNotFound
from eldercare.clock import Clock
from eldercare.db.models import AlertEventRow, AlertRow
from eldercare.models import Alert, AlertKind, AlertStatus, AlertUpdate, Severity

__all__ = ["AlertNotFound", "AlertView", "AlertingApi", "TimelineEntry", "TransitionRefused"]


class AlertView(BaseModel):
    alert_id: str
    home: str
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    raised_at: datetime
    updated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    trigger_count: int
    explanation: dict[str, str]
    evidence: list[dict[str, Any]]

    @classmethod
    def from_row(cls, row: AlertRow) -> AlertView:
        return cls(
            alert_id=row.id,
            home=row.home_id,
            kind=AlertKind(row.kind),
            severity=Severity(row.severity),
            status=AlertStatus(row.status),
            raised_at=row.raised_at,
            updated_at=row.updated_at,
            acknowledged_by=row.acknowledged_by,
            acknowledged_at=row.acknowledged_at,
            resolved_at=row.resolved_at,
            trigger_count=row.trigger_count,
            explanation=row.explanation,
            evidence=row.evidence,
        )


class TimelineEntry(BaseModel):
    at: datetime
    status: AlertStatus
    actor: str | None
    channel: str | None
    note: str | None

    @classmethod
    def from_row(cls, row: AlertEventRow) -> TimelineEntry:
        return cls(
            at=row.at,
            status=AlertStatus(row.status),
            actor=row.actor,
            channel=row.channel,
            note=row.note,
        )


class AlertingApi:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    async def record(self, alert: Alert) -> AlertUpdate | None:
        async with self._sessions.begin() as session:
            return await store.record_alert(session, alert, self._clock.now())

    async def get(self, alert_id: str) -> AlertView:
        async with self._sessions() as session:
            row = await session.get(AlertRow, alert_id)
            if row is None:
                raise AlertNotFound(alert_id)
            return AlertView.from_row(row)

    async def list(
        self, *, unresolved_only: bool = True, home: str | None = None, limit: int = 200
    ) -> list[AlertView]:
        async with self._sessions() as session:
            rows = await store.list_alerts(
                session, unresolved_only=unresolved_only, home=home, limit=limit
            )
            return [AlertView.from_row(row) for row in rows]

    async def timeline(self, alert_id: str) -> list[TimelineEntry]:
        async with self._sessions() as session:
            if await session.get(AlertRow, alert_id) is None:
                raise AlertNotFound(alert_id)
            return [TimelineEntry.from_row(row) for row in await store.timeline(session, alert_id)]

    async def acknowledge(
        self, alert_id: str, *, actor: str, channel: str, note: str | None = None
    ) -> AlertUpdate:
        return await self._transition(
            alert_id, AlertStatus.ACKNOWLEDGED, actor=actor, channel=channel, note=note
        )

    async def resolve(
        self, alert_id: str, *, actor: str, channel: str, note: str | None = None
    ) -> AlertUpdate:
        return await self._transition(
            alert_id, AlertStatus.RESOLVED, actor=actor, channel=channel, note=note
        )

    async def _transition(self, alert_id: str, target: AlertStatus, **details: Any) -> AlertUpdate:
        async with self._sessions.begin() as session:
            return await store.transition(session, alert_id, target, self._clock.now(), **details)

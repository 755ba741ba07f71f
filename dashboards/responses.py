"""Who is on the way to, or on site at, an alert: the only writer of ``alert_responses``.

Alerting knows "acknowledged by whom"; this adds the step after, so two staff don't both
go and nobody assumes someone else went. Rows are appended; the newest per alert counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.schemas import ResponderView, ResponseState
from eldercare.db.models import AlertResponseRow


async def record_response(
    session: AsyncSession, alert_id: str, state: ResponseState, actor: str, at: datetime
) -> ResponderView:
    session.add(AlertResponseRow(alert_id=alert_id, state=state.value, actor=actor, at=at))
    return ResponderView(state=state, actor=actor, at=at)


async def latest_responses(
    session: AsyncSession, alert_ids: Iterable[str]
) -> dict[str, ResponderView]:
    ids = list(alert_ids)
    if not ids:
        return {}
    newest = (
        select(func.max(AlertResponseRow.id))
        .where(AlertResponseRow.alert_id.in_(ids))
        .group_by(AlertResponseRow.alert_id)
    )
    rows = await session.scalars(select(AlertResponseRow).where(AlertResponseRow.id.in_(newest)))
    return {
        row.alert_id: ResponderView(state=ResponseState(row.state), actor=row.actor, at=row.at)
        for row in rows
    }


async def response_history(session: AsyncSession, alert_id: str) -> list[ResponderView]:
    rows = await session.scalars(
        select(AlertResponseRow)
        .where(AlertResponseRow.alert_id == alert_id)
        .order_by(AlertResponseRow.id)
    )
    return [
        ResponderView(state=ResponseState(row.state), actor=row.actor, at=row.at) for row in rows
    ]

"""Alerts a principal may see, through alerting's public API only.

``AlertingApi.list`` filters by one home or none. For a scoped principal we ask per visible
home rather than fetching everything and filtering, because a global ``limit`` could push a
station's own open alert off the end of the list: a missing alert on the wall is the worst
bug this system can have.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from alerting.api import AlertingApi, AlertView
from dashboards.principal import Principal, Role
from dashboards.responses import latest_responses
from dashboards.schemas import AlertItem


async def visible_alerts(
    api: AlertingApi,
    principal: Principal,
    home_ids: list[str],
    *,
    unresolved_only: bool,
    limit: int,
) -> list[AlertView]:
    """Newest first, at most ``limit``, only from ``home_ids`` (all homes for an admin)."""
    if principal.role is Role.ADMIN and len(home_ids) != 1:
        found = await api.list(unresolved_only=unresolved_only, limit=limit)
    else:
        found = []
        for home_id in home_ids:
            found += await api.list(unresolved_only=unresolved_only, home=home_id, limit=limit)
    found.sort(key=lambda alert: alert.raised_at, reverse=True)
    return found[:limit]


async def with_responses(session: AsyncSession, alerts: Sequence[AlertView]) -> list[AlertItem]:
    """The alerts as the wall shows them, each with its newest on-the-way / on-site step."""
    responses = await latest_responses(session, (alert.alert_id for alert in alerts))
    return [
        AlertItem(**alert.model_dump(), response=responses.get(alert.alert_id)) for alert in alerts
    ]

"""Alerts a principal may see, through alerting's public API only.

``AlertingApi.list`` filters by one home or none. For a scoped principal we ask per visible
home rather than fetching everything and filtering, because a global ``limit`` could push a
station's own open alert off the end of the list: a missing alert on the wall is the worst
bug this system can have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from alerting.api import AlertingApi, AlertView
from dashboards.homes import households
from dashboards.principal import Principal, Role
from dashboards.responses import latest_responses
from dashboards.schemas import AlertItem, Household
from dashboards.scope import visible_home_ids


async def visible_alerts(
    api: AlertingApi, home_ids: Sequence[str] | None, *, unresolved_only: bool, limit: int
) -> list[AlertView]:
    """Newest first, at most ``limit``, only from ``home_ids``; None means every home, which
    only ``scoped_home_ids`` gives, and only to an admin."""
    if home_ids is None:
        found = await api.list(unresolved_only=unresolved_only, limit=limit)
    else:
        found = []
        for home_id in home_ids:
            found += await api.list(unresolved_only=unresolved_only, home=home_id, limit=limit)
    found.sort(key=lambda alert: alert.raised_at, reverse=True)
    return found[:limit]


async def with_responses(
    session: AsyncSession,
    alerts: Sequence[AlertView],
    known: Mapping[str, Household] | None = None,
) -> list[AlertItem]:
    """The alerts as the wall shows them, each with its newest on-the-way / on-site step
    and the household it is about (``known``: read with the caller's other reads; read
    here when None)."""
    responses = await latest_responses(session, (alert.alert_id for alert in alerts))
    if known is None:
        known = await households(session, (alert.home for alert in alerts))
    return [
        AlertItem(
            **alert.model_dump(),
            response=responses.get(alert.alert_id),
            household=known.get(alert.home),
        )
        for alert in alerts
    ]


async def scoped_home_ids(
    session: AsyncSession, principal: Principal, home_id: str | None = None
) -> list[str] | None:
    """The homes a list should cover: the one asked for (already checked by the caller), or
    all the principal may see; None for an admin's unfiltered list (every home, including
    alerts of homes not, or not yet, in the registry)."""
    if home_id is not None:
        return [home_id]
    if principal.role is Role.ADMIN:
        return None
    return await visible_home_ids(session, principal)

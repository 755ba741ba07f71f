"""Visits (探访): today's visiting list, recording a visit or call, and monthly coverage.

Staff record visits here; alerting keeps them (``AlertingApi.record_visit``), as it keeps
acknowledgements, and closes the home's open wellbeing notices with a visit that reached
the resident. Everything is scoped like alerts: a station's staff see their station's homes.
"""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.api import VisitCoverage, VisitMode, VisitOutcome
from dashboards.context import DashboardContext
from dashboards.deps import ContextDep, MaybePrincipal, Responder, SessionDep
from dashboards.errors import ApiError, error_responses
from dashboards.principal import Principal
from dashboards.rendering import DEFAULT_TZ, render
from dashboards.routes.alerts import actor_name
from dashboards.routes.homes import visible_home
from dashboards.routes.pages import responder_or_away
from dashboards.schemas import VisitRecorded, VisitRequest
from dashboards.scope import visible_home_ids
from dashboards.visiting import VisitingItem, visiting_list
from eldercare.logs import get_logger
from eldercare.vocabulary import MONTH_PATTERN
from gateway import registry_api

log = get_logger("dashboard.visits")
router = APIRouter(tags=["visits"], responses=error_responses(401, 403, 422))
pages = APIRouter(include_in_schema=False)

MONTH = re.compile(MONTH_PATTERN)


@router.get("/api/visits/today", response_model=list[VisitingItem])
async def visits_today(
    ctx: ContextDep, session: SessionDep, principal: Responder
) -> list[VisitingItem]:
    """Every home in the caller's scope, highest risk first, each with its reasons."""
    return await visiting_list(ctx, session, principal)


@router.post(
    "/api/homes/{home_id}/visits",
    response_model=VisitRecorded,
    status_code=201,
    responses=error_responses(401, 403, 404, 422),
)
async def record_visit(
    ctx: ContextDep, session: SessionDep, principal: Responder, home_id: str, body: VisitRequest
) -> VisitRecorded:
    """A visit or call by the logged-in staff member; one that reached the resident closes
    the home's open wellbeing notices and moves the home down the list."""
    await visible_home(session, principal, home_id)
    if body.at is not None and body.at > ctx.clock.now():
        raise ApiError(422, "at: must not lie in the future")
    visit, closed = await ctx.api.record_visit(
        home_id,
        by=actor_name(principal),
        mode=body.mode,
        outcome=body.outcome,
        note=body.note,
        at=body.at,
    )
    log.info(
        "visit_recorded",
        home=home_id,
        visit_id=visit.visit_id,
        mode=visit.mode.value,
        outcome=visit.outcome.value,
        notices_closed=closed,
    )
    return VisitRecorded(visit=visit, notices_closed=closed)


async def scoped_coverage(
    ctx: DashboardContext, session: AsyncSession, principal: Principal, month: str
) -> list[VisitCoverage]:
    """The month's coverage of the stations whose homes the principal may see."""
    visible = await visible_home_ids(session, principal)
    stations = {home.station_id for home in await registry_api.homes(session, visible)}
    return [row for row in await ctx.api.visit_coverage(month=month) if row.station in stations]


def _this_month(ctx: DashboardContext) -> str:
    return ctx.clock.now().astimezone(ZoneInfo(DEFAULT_TZ)).strftime("%Y-%m")


def _month(ctx: DashboardContext, month: str | None) -> str:
    if month is None:
        return _this_month(ctx)
    if not MONTH.match(month):
        raise ApiError(422, "month: use YYYY-MM, e.g. 2026-11")
    return month


@router.get("/api/visits/coverage", response_model=list[VisitCoverage])
async def visit_coverage(
    ctx: ContextDep,
    session: SessionDep,
    principal: Responder,
    month: Annotated[
        str | None, Query(description="YYYY-MM; this month if absent", pattern=MONTH_PATTERN)
    ] = None,
) -> list[VisitCoverage]:
    """Per station: the share of its homes reached by a visit or call in the month."""
    return await scoped_coverage(ctx, session, principal, _month(ctx, month))


@pages.get("/visits", response_class=HTMLResponse)
async def visits_page(
    request: Request, ctx: ContextDep, session: SessionDep, principal: MaybePrincipal
) -> Response:
    staff = responder_or_away(request, principal)
    if isinstance(staff, Response):
        return staff
    items = await visiting_list(ctx, session, staff)
    return render(
        request,
        "visits.html",
        staff,
        items=items,
        modes=list(VisitMode),
        outcomes=list(VisitOutcome),
        now=ctx.clock.now(),
    )


@pages.get("/visits/coverage", response_class=HTMLResponse)
async def coverage_page(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    principal: MaybePrincipal,
    month: str | None = None,
) -> Response:
    staff = responder_or_away(request, principal)
    if isinstance(staff, Response):
        return staff
    try:
        chosen = _month(ctx, month)
    except ApiError:
        chosen = _this_month(ctx)
    rows = await scoped_coverage(ctx, session, staff, chosen)
    return render(request, "coverage.html", staff, rows=rows, month=chosen)

"""``/api/homes``: the overview of the caller's homes, one home's page, and its mode."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards import family_links, homes
from dashboards.activity_log import RETENTION
from dashboards.alert_lists import visible_alerts, with_responses
from dashboards.context import DashboardContext
from dashboards.day import fetch_window, resident_day
from dashboards.deps import ContextDep, CurrentPrincipal, Responder, SessionDep, placement_or_404
from dashboards.errors import ApiError, error_responses
from dashboards.principal import Principal
from dashboards.rendering import DEFAULT_TZ
from dashboards.routes.alerts import actor_name
from dashboards.schemas import (
    FamilyLinksRevoked,
    HomeDay,
    HomeDetail,
    HomeModeRequest,
    HomeModeView,
    HomeSummary,
    Page,
)
from dashboards.scope import visible_home_ids
from eldercare.logs import get_logger
from gateway import registry_api

log = get_logger("dashboard.homes")
router = APIRouter(prefix="/api/homes", tags=["homes"], responses=error_responses(401, 422))

#: Past alerts shown on a home's page besides the open ones.
RECENT_ALERTS = 50
#: Events one day view reads at most: a busy home makes ~2 000 a day; this bounds a request.
DAY_ROWS = 10_000


@router.get("", response_model=Page[HomeSummary], responses=error_responses(401, 422))
async def list_homes(
    ctx: ContextDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Page[HomeSummary]:
    """Online/offline, battery warnings, last activity and open alerts per home, by id."""
    visible = await visible_home_ids(session, principal)
    window = visible[offset : offset + limit]
    open_alerts = await visible_alerts(ctx.api, window, unresolved_only=True, limit=10_000)
    items = await homes.summaries(session, window, open_alerts, ctx.activity, ctx.clock.now())
    more = len(visible) > offset + limit
    return Page(
        items=items, limit=limit, offset=offset, next_offset=offset + limit if more else None
    )


async def visible_home(
    session: AsyncSession, principal: Principal, home_id: str
) -> registry_api.HomeRow:
    """The registry row if the caller may see it; out of scope answers like missing."""
    await placement_or_404(session, principal, home_id)
    home = await registry_api.home(session, home_id)
    if home is None:
        raise ApiError(404, f"home {home_id} not found")
    return home


async def home_detail(
    ctx: DashboardContext, session: AsyncSession, principal: Principal, home_id: str
) -> HomeDetail:
    """One home as the caller may see it (404 outside their scope); pages reuse it."""
    home = await visible_home(session, principal, home_id)
    alerts = await visible_alerts(ctx.api, [home_id], unresolved_only=False, limit=RECENT_ALERTS)
    now = ctx.clock.now()
    (summary,) = await homes.summaries(session, [home_id], alerts, ctx.activity, now)
    devices = homes.device_views(
        await homes.home_devices(session, home_id), ctx.activity, alerts, now
    )
    station = await registry_api.station(session, home.station_id) if home.station_id else None
    return HomeDetail(
        **summary.model_dump(),
        address=home.address,
        timezone=home.timezone or DEFAULT_TZ,
        station_phone=station.phone if station else "",
        residents=await homes.residents(session, home_id),
        contacts=await homes.contacts(session, home_id),
        devices=devices,
        alerts=await with_responses(session, alerts),
    )


@router.get("/{home_id}", response_model=HomeDetail, responses=error_responses(401, 404))
async def get_home(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, home_id: str
) -> HomeDetail:
    """The home's page: residents, contacts in calling order, devices, open and past alerts."""
    return await home_detail(ctx, session, principal, home_id)


async def home_day(
    ctx: DashboardContext,
    session: AsyncSession,
    principal: Principal,
    home_id: str,
    day: date | None = None,
) -> HomeDay:
    """The resident's day (today by default) from the stored activity; 404 outside scope.

    Days are the home's own: midnight and the hours on the page are in its time zone."""
    tz = (await visible_home(session, principal, home_id)).timezone or DEFAULT_TZ
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(tz)).date()
    oldest = today - timedelta(days=RETENTION.days - 1)
    day = day or today
    if not oldest <= day <= today:
        raise ApiError(422, f"day: must lie between {oldest} and {today} (activity is kept 8 days)")
    start, end = fetch_window(day, tz)
    rows = await ctx.activity.log.between(session, home_id, start, min(end, now), DAY_ROWS + 1)
    latest = await ctx.activity.log.latest(session, [home_id])
    return resident_day(
        home_id,
        day,
        tz,
        rows[-DAY_ROWS:],
        now,
        last_seen=latest.get(home_id),
        truncated=len(rows) > DAY_ROWS,
    )


@router.get("/{home_id}/day", response_model=HomeDay, responses=error_responses(401, 404, 422))
async def get_home_day(
    ctx: ContextDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    home_id: str,
    day: Annotated[
        date | None, Query(description="local date, YYYY-MM-DD; today if absent")
    ] = None,
) -> HomeDay:
    """Room occupancy, the night's sleep and bathroom visits of one day (the last 8 days)."""
    return await home_day(ctx, session, principal, home_id, day)


@router.put(
    "/{home_id}/mode",
    response_model=HomeModeView | None,
    responses=error_responses(401, 403, 404, 422),
)
async def put_mode(
    ctx: ContextDep,
    session: SessionDep,
    principal: Responder,
    home_id: str,
    body: HomeModeRequest,
) -> HomeModeView | None:
    """Set "away" or "in hospital" (until a time, or until changed), or back to "home".
    Answers the mode now in force: null when the resident is expected at home."""
    await visible_home(session, principal, home_id)
    now = ctx.clock.now()
    if body.until is not None and body.until <= now:
        raise ApiError(422, "until: must lie in the future")
    async with ctx.sessions.begin() as writing:
        view = await homes.set_mode(writing, home_id, body, actor_name(principal), now)
    log.info("home_mode_set", home=home_id, mode=body.mode.value, until=str(body.until))
    return view


@router.post(
    "/{home_id}/contacts/{name}/revoke-family-links",
    response_model=FamilyLinksRevoked,
    responses=error_responses(401, 403, 404),
)
async def revoke_family_links(
    ctx: ContextDep, session: SessionDep, principal: Responder, home_id: str, name: str
) -> FamilyLinksRevoked:
    """Every family link sent to this relative so far stops working at once (a lost phone,
    a relative no longer welcome); links sent with later alerts work again."""
    await visible_home(session, principal, home_id)
    if name not in {contact.name for contact in await homes.contacts(session, home_id)}:
        raise ApiError(404, f"no contact {name} in home {home_id}")
    now = ctx.clock.now()
    async with ctx.sessions.begin() as writing:
        await family_links.revoke(writing, home_id, name, actor_name(principal), now)
    log.info("family_links_revoked", home=home_id, by=actor_name(principal))
    return FamilyLinksRevoked(home_id=home_id, contact=name, revoked_at=now)

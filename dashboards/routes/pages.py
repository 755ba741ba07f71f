"""Server-rendered pages: login, alert wall, homes overview, home page, alert page.

Pages need a logged-in responder; anyone else is sent to the login page (a family member
with an account goes to their relative's page). Data comes from the same scoped functions
as the REST API, so a page can never show more than the API would.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerting.api import NOTICE_RECENT_DAYS
from dashboards.alert_lists import with_responses
from dashboards.charts import notice_chart
from dashboards.deps import ContextDep, MaybePrincipal, SessionDep, visible_alert
from dashboards.errors import ApiError
from dashboards.family import family_status, family_week
from dashboards.homes import home_devices
from dashboards.principal import Principal, Role
from dashboards.rendering import chosen_language, render
from dashboards.responses import response_history
from dashboards.routes.homes import home_day, home_detail, list_homes
from dashboards.schemas import STAFF_OUTCOMES
from dashboards.timeline import timeline_steps
from eldercare import __version__

router = APIRouter(include_in_schema=False)

#: How far back the alert page shows what the home's sensors reported, and at most how much.
SENSOR_WINDOW = timedelta(hours=1)
SENSOR_ROWS = 500
#: Visits and calls listed on a home's page, newest first.
VISITS_SHOWN = 10


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def responder_or_away(request: Request, principal: Principal | None) -> Principal | Response:
    """Station staff, supervisors and admins pass; anyone else is sent away from a staff
    page: to the login page, or a family member to their relative's page."""
    if principal is None:
        return to_login(request)
    if not principal.is_responder:
        return RedirectResponse(f"/homes/{principal.home_id}", status_code=303)
    return principal


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> HTMLResponse:
    # Only our own paths: a crafted link must not bounce a fresh login to another site.
    own_path = next.startswith("/") and not next.startswith("//") and "\\" not in next
    # Back to the login form after logging in would look like a refused password.
    target = next if own_path and not next.startswith("/login") else "/"
    return render(request, "login.html", next=target)


@router.get("/", response_class=HTMLResponse)
async def alert_wall(request: Request, principal: MaybePrincipal) -> Response:
    staff = responder_or_away(request, principal)
    if isinstance(staff, Response):
        return staff
    return render(request, "wall.html", staff, outcomes=STAFF_OUTCOMES)


@router.get("/homes", response_class=HTMLResponse)
async def homes_page(
    request: Request, ctx: ContextDep, session: SessionDep, principal: MaybePrincipal
) -> Response:
    if principal is None:
        return to_login(request)
    page = await list_homes(ctx, session, principal, limit=500, offset=0)
    return render(request, "homes.html", principal, homes=page.items)


@router.get("/homes/{home_id}", response_class=HTMLResponse)
async def home_page(
    request: Request, ctx: ContextDep, session: SessionDep, principal: MaybePrincipal, home_id: str
) -> Response:
    if principal is None:
        return to_login(request)
    try:
        home = await home_detail(ctx, session, principal, home_id)
    except ApiError as error:
        return render(request, "missing.html", principal, status_code=error.status)
    now = ctx.clock.now()
    if principal.role is Role.FAMILY:
        status = family_status(home, now)
        return render(
            request,
            "family.html",
            principal,
            home=home,
            token=None,
            status=status,
            week=await family_week(ctx.api, home, now),
            body_class="family",
        )
    day = await home_day(ctx, session, principal, home_id)  # in scope: home_detail checked
    notices = await ctx.api.notices(homes=[home_id])
    return render(
        request,
        "home.html",
        principal,
        home=home,
        now=now,
        day=day,
        notices=[(notice, notice_chart(notice.evidence, NOTICE_RECENT_DAYS)) for notice in notices],
        visits=await ctx.api.visits(home_id, limit=VISITS_SHOWN),
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    principal: MaybePrincipal,
    alert_id: str,
) -> Response:
    staff = responder_or_away(request, principal)
    if isinstance(staff, Response):
        return staff
    try:
        alert, _ = await visible_alert(ctx.api, session, staff, alert_id)
    except ApiError as error:
        return render(request, "missing.html", staff, status_code=error.status)
    (item,) = await with_responses(session, [alert])
    return render(
        request,
        "alert.html",
        staff,
        alert=item,
        steps=timeline_steps(
            await ctx.api.timeline(alert_id),
            await response_history(session, alert_id),
            chosen_language(request, staff),
        ),
        outcomes=STAFF_OUTCOMES,
        devices={device.id: device for device in await home_devices(session, alert.home)},
        before=await ctx.activity.log.between(
            session, alert.home, alert.raised_at - SENSOR_WINDOW, alert.raised_at, SENSOR_ROWS
        ),
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}

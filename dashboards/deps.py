"""Request dependencies: the shared context, the database session, and who is asking.

A principal comes from a bearer token (API clients) or the session cookie (browsers). A
cookie-authenticated request that changes something must come from our own origin: the
cookie is SameSite=Strict already, and checking ``Origin`` closes the gap for older browsers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.api import AlertingApi, AlertNotFound, AlertView
from dashboards.accounts import principal_for_token
from dashboards.context import DashboardContext
from dashboards.errors import ApiError
from dashboards.principal import Principal, Role
from dashboards.scope import Placement, may_see, placement_of

SESSION_COOKIE = "eldercare_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def context(request: Request) -> DashboardContext:
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[DashboardContext, Depends(context)]


async def db_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    async with ctx.sessions.begin() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(db_session)]


def request_token(request: Request) -> tuple[str | None, bool]:
    """The session token and whether it came from the cookie (not a bearer header)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip(), False
    return request.cookies.get(SESSION_COOKIE), True


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin.rstrip("/") == str(request.base_url).rstrip("/")


#: Documents the bearer scheme in OpenAPI; the token itself is read by ``request_token``.
bearer = HTTPBearer(auto_error=False, description="the token from POST /api/session")


async def optional_principal(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    token, from_cookie = request_token(request)
    if not token:
        return None
    principal = await principal_for_token(session, token, ctx.clock.now())
    unsafe = from_cookie and request.method not in SAFE_METHODS
    if principal and unsafe and not _same_origin(request):
        raise ApiError(403, "cross-origin request refused", "cross_origin")
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise ApiError(401, "log in first")
    return principal


async def responder(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_responder:
        raise ApiError(403, "only station staff, supervisors and admins may do this")
    return principal


async def admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.role is not Role.ADMIN:
        raise ApiError(403, "only admins may change the registry")
    return principal


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Responder = Annotated[Principal, Depends(responder)]


async def placement_or_404(session: AsyncSession, principal: Principal, home_id: str) -> Placement:
    """The home's placement if the principal may see it. Out of scope answers like missing,
    so ids of other stations' homes cannot be probed."""
    placement = await placement_of(session, home_id) or Placement(home_id, None, None)
    if not may_see(principal, placement):
        raise ApiError(404, f"home {home_id} not found")
    return placement


async def visible_alert(
    api: AlertingApi, session: AsyncSession, principal: Principal, alert_id: str
) -> tuple[AlertView, Placement]:
    try:
        alert = await api.get(alert_id)
    except AlertNotFound:
        raise ApiError(404, f"alert {alert_id} not found") from None
    try:
        placement = await placement_or_404(session, principal, alert.home)
    except ApiError:
        raise ApiError(404, f"alert {alert_id} not found") from None
    return alert, placement

"""Logging in and out: ``/api/session`` (token + cookie) and ``/api/me``."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response

from dashboards import login_throttle
from dashboards.accounts import SESSION_LIFETIME, authenticate, close_session, open_session
from dashboards.accounts import principal_of as principal_of_user
from dashboards.deps import SESSION_COOKIE, ContextDep, CurrentPrincipal, request_token
from dashboards.errors import ApiError, error_responses
from dashboards.principal import Principal
from dashboards.schemas import LoginRequest, LoginResponse, Me
from eldercare.logs import get_logger

log = get_logger("dashboard.session")
router = APIRouter(prefix="/api", tags=["session"], responses=error_responses(422))


def me(principal: Principal) -> Me:
    return Me(
        name=principal.name,
        role=principal.role,
        station_id=principal.station_id,
        home_id=principal.home_id,
        language=principal.language,
    )


@router.post(
    "/session",
    response_model=LoginResponse,
    responses=error_responses(401, 422, 429),
    status_code=201,
)
async def log_in(
    body: LoginRequest, request: Request, response: Response, ctx: ContextDep
) -> LoginResponse:
    """Check the password; answer a token and set it as an HttpOnly, SameSite=Strict cookie.
    After 5 failed logins for a username (20 for a client address) in 15 minutes, every
    login for it answers 429 with ``Retry-After`` for 15 minutes, the right password too."""
    now = ctx.clock.now()
    address = request.client.host if request.client else "unknown"
    user_key, address_key = login_throttle.keys_for(body.username, address)
    async with ctx.sessions.begin() as session:  # counted before the check: see login_throttle
        wait = await login_throttle.admit(session, (user_key, address_key), now)
    if wait is not None:
        seconds = math.ceil(wait.total_seconds())
        log.warning(
            "login_throttled", username=body.username[:100], address=address, wait_s=seconds
        )
        raise ApiError(
            429,
            f"too many failed logins; try again in {math.ceil(seconds / 60)} minutes",
            headers={"Retry-After": str(seconds)},
        )
    async with ctx.sessions.begin() as session:  # committed before the browser uses the cookie
        user = await authenticate(session, body.username, body.password)
        if user is not None:
            await login_throttle.succeeded(session, user_key, address_key)
            token = await open_session(session, user, now)
    if user is None:
        log.warning("login_failed", username=body.username[:100], address=address)
        raise ApiError(401, "wrong username or password", "bad_credentials")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=ctx.secure_cookies,
    )
    log.info("login", user_id=user.id, role=user.role)
    return LoginResponse(token=token, user=me(principal_of_user(user)))


@router.delete("/session", status_code=204, responses=error_responses(401))
async def log_out(
    request: Request, response: Response, ctx: ContextDep, principal: CurrentPrincipal
) -> None:
    token, _ = request_token(request)
    if token:
        async with ctx.sessions.begin() as session:
            await close_session(session, token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=Me, responses=error_responses(401))
async def who_am_i(principal: CurrentPrincipal) -> Me:
    return me(principal)

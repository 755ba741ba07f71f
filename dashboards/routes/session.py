"""Logging in and out: ``/api/session`` (token + cookie) and ``/api/me``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

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
    "/session", response_model=LoginResponse, responses=error_responses(401, 422), status_code=201
)
async def log_in(body: LoginRequest, response: Response, ctx: ContextDep) -> LoginResponse:
    """Check the password; answer a token and set it as an HttpOnly, SameSite=Strict cookie."""
    async with ctx.sessions.begin() as session:  # committed before the browser uses the cookie
        user = await authenticate(session, body.username, body.password)
        if user is None:
            log.warning("login_failed", username=body.username[:100])
            raise ApiError(401, "wrong username or password", "bad_credentials")
        token = await open_session(session, user, ctx.clock.now())
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

"""The family view behind a signed link: ``/family/{token}`` and its acknowledge action.

The link is the credential (no password for an 80-year-old's daughter on a bus); it names
one home and expires. An invalid or expired link gets a page that says which, in words.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.deps import ContextDep, SessionDep, visible_alert
from dashboards.errors import ApiError, error_responses
from dashboards.family import family_status, family_week
from dashboards.family_links import RevokedLink, check_not_revoked, read_family_link
from dashboards.principal import Principal
from dashboards.rendering import render
from dashboards.routes.alerts import actor_name, apply_action
from dashboards.routes.homes import home_detail
from dashboards.schemas import AckRequest
from eldercare.logs import get_logger
from eldercare.models import AlertUpdate
from eldercare.signing import ExpiredToken, InvalidToken

log = get_logger("dashboard.family")
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/family", tags=["family"], responses=error_responses(401, 422))


async def _principal(ctx: ContextDep, session: AsyncSession, token: str) -> Principal:
    """Checked on every family request: signature, expiry, and not revoked since issued."""
    try:
        link = read_family_link(token, ctx.signing_key, ctx.clock.now())
    except ExpiredToken:
        raise ApiError(401, "this link has expired", "link_expired") from None
    except InvalidToken:
        raise ApiError(401, "this link is not valid", "link_invalid") from None
    try:
        await check_not_revoked(session, link)
    except RevokedLink as error:
        log.info("family_link_refused", home=link.principal.home_id, reason=str(error))
        raise ApiError(401, "this link has been withdrawn", "link_revoked") from None
    return link.principal


@pages.get("/family/{token}", response_class=HTMLResponse)
async def family_page(
    request: Request, ctx: ContextDep, session: SessionDep, token: str
) -> HTMLResponse:
    try:
        principal = await _principal(ctx, session, token)
        home = await home_detail(ctx, session, principal, principal.home_id or "")
    except ApiError as error:
        key = "family.expired" if error.code == "link_expired" else "family.invalid"
        return render(
            request,
            "family_invalid.html",
            message_key=key,
            status_code=error.status,
            body_class="family",
        )
    now = ctx.clock.now()
    return render(
        request,
        "family.html",
        principal,
        home=home,
        token=token,
        now=now,
        status=family_status(home, now),
        week=await family_week(ctx.api, home, now),
        body_class="family",
    )


@api.post(
    "/{token}/alerts/{alert_id}/ack",
    response_model=AlertUpdate,
    responses=error_responses(401, 404, 409, 422),
)
async def family_acknowledge(
    ctx: ContextDep, session: SessionDep, token: str, alert_id: str, body: AckRequest
) -> AlertUpdate:
    """Acknowledge from the family link: only alerts of the home the link was made for."""
    principal = await _principal(ctx, session, token)
    await visible_alert(ctx.api, session, principal, alert_id)
    action = ctx.api.acknowledge(
        alert_id, actor=actor_name(principal), channel="family_link", note=body.note
    )
    log.info("family_ack", alert_id=alert_id, home=principal.home_id)
    return await apply_action(ctx, alert_id, action)

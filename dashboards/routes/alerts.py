"""``/api/alerts``: the scoped alert list, the live stream, and the actions on one alert."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from alerting.api import AlertNotFound, TransitionRefused
from dashboards.accounts import principal_for_token
from dashboards.alert_lists import scoped_home_ids, visible_alerts, with_responses
from dashboards.deps import (
    ContextDep,
    CurrentPrincipal,
    Responder,
    SessionDep,
    placement_or_404,
    request_token,
    visible_alert,
)
from dashboards.errors import ApiError, error_responses
from dashboards.principal import Principal, Role
from dashboards.responses import record_response, response_history
from dashboards.schemas import (
    AckRequest,
    AlertItem,
    Page,
    ResolveRequest,
    ResponderView,
    ResponseRequest,
)
from dashboards.scope import may_see
from dashboards.stream import while_valid
from dashboards.timeline import FAMILY_SUFFIX, TimelineItem
from eldercare.logs import get_logger
from eldercare.models import AlertUpdate

log = get_logger("dashboard.alerts")
router = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=error_responses(401, 422))

MAX_OFFSET = 10_000


def actor_name(principal: Principal) -> str:
    """What the timeline and the wall show as "who": family members are marked as such."""
    suffix = FAMILY_SUFFIX if principal.role is Role.FAMILY else ""
    return f"{principal.name[: 100 - len(suffix)]}{suffix}"


@router.get("", response_model=Page[AlertItem], responses=error_responses(401, 404, 422))
async def list_alerts(
    ctx: ContextDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    unresolved_only: bool = True,
    home_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[AlertItem]:
    """Alerts of the homes the caller may see, newest first."""
    if home_id is not None:
        await placement_or_404(session, principal, home_id)
    homes = await scoped_home_ids(session, principal, home_id)
    found = await visible_alerts(
        ctx.api, homes, unresolved_only=unresolved_only, limit=offset + limit + 1
    )
    window = found[offset : offset + limit]
    more = len(found) > offset + limit
    return Page(
        items=await with_responses(session, window),
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
        **error_responses(401),
    },
)
async def stream(
    request: Request, ctx: ContextDep, principal: CurrentPrincipal
) -> StreamingResponse:
    """Server-sent events: ``alert`` frames ``{update, alert}`` for every lifecycle step and
    ``response`` frames ``{alert}`` when someone is on the way or on site; only for homes the
    caller may see, and only while the caller's login lasts."""
    token, _ = request_token(request)

    async def still_valid() -> bool:
        async with ctx.sessions() as session:
            return await principal_for_token(session, token or "", ctx.clock.now()) is not None

    return StreamingResponse(
        while_valid(ctx.broadcaster.frames(partial(may_see, principal)), still_valid),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}", response_model=AlertItem, responses=error_responses(401, 404))
async def get_alert(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, alert_id: str
) -> AlertItem:
    alert, _ = await visible_alert(ctx.api, session, principal, alert_id)
    return (await with_responses(session, [alert]))[0]


@router.get(
    "/{alert_id}/timeline",
    response_model=list[TimelineItem],
    responses=error_responses(401, 404),
)
async def get_timeline(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, alert_id: str
) -> list[TimelineItem]:
    """Each lifecycle step (raised, notified, escalated, acknowledged…) with who and why:
    the stored record, and the note, actor and channel in each language (``*_text``)."""
    await visible_alert(ctx.api, session, principal, alert_id)
    return [TimelineItem.of(entry) for entry in await ctx.api.timeline(alert_id)]


@router.get(
    "/{alert_id}/responses",
    response_model=list[ResponderView],
    responses=error_responses(401, 404),
)
async def get_responses(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, alert_id: str
) -> list[ResponderView]:
    """Every "on the way" / "on site" step, oldest first."""
    await visible_alert(ctx.api, session, principal, alert_id)
    return await response_history(session, alert_id)


async def apply_action(
    ctx: ContextDep, alert_id: str, action: Awaitable[AlertUpdate]
) -> AlertUpdate:
    try:
        update = await action
    except AlertNotFound:
        raise ApiError(404, f"alert {alert_id} not found") from None
    except TransitionRefused as refused:
        raise ApiError(409, str(refused), "transition_refused") from None
    log.info("alert_action", alert_id=alert_id, home=update.home, status=update.status)
    await ctx.publish_update(update)
    return update


@router.post(
    "/{alert_id}/ack", response_model=AlertUpdate, responses=error_responses(401, 404, 409, 422)
)
async def acknowledge(
    ctx: ContextDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    alert_id: str,
    body: AckRequest,
) -> AlertUpdate:
    """Take responsibility: everyone's wall shows who did, and escalation stops."""
    await visible_alert(ctx.api, session, principal, alert_id)
    action = ctx.api.acknowledge(
        alert_id, actor=actor_name(principal), channel="dashboard", note=body.note
    )
    return await apply_action(ctx, alert_id, action)


@router.post(
    "/{alert_id}/resolve",
    response_model=AlertUpdate,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def resolve(
    ctx: ContextDep, session: SessionDep, principal: Responder, alert_id: str, body: ResolveRequest
) -> AlertUpdate:
    """Close the alert with what happened (the outcome) and an optional note."""
    await visible_alert(ctx.api, session, principal, alert_id)
    action = ctx.api.resolve(
        alert_id,
        actor=actor_name(principal),
        channel="dashboard",
        note=body.note,
        outcome=body.outcome,
    )
    return await apply_action(ctx, alert_id, action)


@router.post(
    "/{alert_id}/response",
    response_model=ResponderView,
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def respond(
    ctx: ContextDep,
    session: SessionDep,
    principal: Responder,
    alert_id: str,
    body: ResponseRequest,
) -> ResponderView:
    """Say "I am on the way" or "I am on site", so nobody else sets off for the same alert."""
    alert, placement = await visible_alert(ctx.api, session, principal, alert_id)
    if alert.resolved_at is not None:
        raise ApiError(409, f"alert {alert_id} is resolved", "transition_refused")
    async with ctx.sessions.begin() as writing:  # committed before anyone is told
        view = await record_response(
            writing, alert_id, body.state, actor_name(principal), ctx.clock.now()
        )
    item = (await with_responses(session, [alert]))[0]
    ctx.broadcaster.publish("response", {"alert": item.model_dump(mode="json")}, placement)
    log.info("alert_response", alert_id=alert_id, home=alert.home, state=body.state.value)
    return view

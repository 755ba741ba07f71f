"""The FastAPI application: REST + SSE over alerting's public API, and the alert wall page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from alerting.api import AlertingApi, AlertNotFound, AlertView, TimelineEntry, TransitionRefused
from dashboards.i18n import catalogue, pick_language
from dashboards.stream import Broadcaster
from eldercare import __version__
from eldercare.models import AlertUpdate

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))

PublishUpdate = Callable[[AlertUpdate], Awaitable[None]]


class ActionRequest(BaseModel):
    actor: str = Field(min_length=1, max_length=100, description="who takes responsibility")
    note: str | None = Field(default=None, max_length=1000)


class ErrorBody(BaseModel):
    detail: str


def _api(request: Request) -> AlertingApi:
    return request.app.state.alerting  # type: ignore[no-any-return]


ApiDep = Annotated[AlertingApi, Depends(_api)]
_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "no such alert"},
    409: {"model": ErrorBody, "description": "the alert is not in a state that allows this"},
}

alerts = APIRouter(prefix="/api/alerts", tags=["alerts"])


@alerts.get("", response_model=list[AlertView])
async def list_alerts(
    api: ApiDep,
    unresolved_only: bool = True,
    home: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertView]:
    return await api.list(unresolved_only=unresolved_only, home=home, limit=limit)


@alerts.get("/stream", response_class=StreamingResponse)
async def stream(request: Request) -> StreamingResponse:
    """Server-sent events: ``alert`` frames with ``{update, alert}`` for every lifecycle step."""
    broadcaster: Broadcaster = request.app.state.broadcaster
    return StreamingResponse(
        broadcaster.frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@alerts.get("/{alert_id}", response_model=AlertView, responses=_ERRORS)
async def get_alert(api: ApiDep, alert_id: str) -> AlertView:
    try:
        return await api.get(alert_id)
    except AlertNotFound:
        raise HTTPException(404, f"alert {alert_id} not found") from None


@alerts.get("/{alert_id}/timeline", response_model=list[TimelineEntry], responses=_ERRORS)
async def get_timeline(api: ApiDep, alert_id: str) -> list[TimelineEntry]:
    try:
        return await api.timeline(alert_id)
    except AlertNotFound:
        raise HTTPException(404, f"alert {alert_id} not found") from None


async def _act(request: Request, alert_id: str, update: Awaitable[AlertUpdate]) -> AlertUpdate:
    try:
        result = await update
    except AlertNotFound:
        raise HTTPException(404, f"alert {alert_id} not found") from None
    except TransitionRefused as refused:
        raise HTTPException(409, str(refused)) from None
    await request.app.state.publish_update(result)
    return result


@alerts.post("/{alert_id}/ack", response_model=AlertUpdate, responses=_ERRORS)
async def acknowledge(
    request: Request, api: ApiDep, alert_id: str, body: ActionRequest
) -> AlertUpdate:
    action = api.acknowledge(alert_id, actor=body.actor, channel="dashboard", note=body.note)
    return await _act(request, alert_id, action)


@alerts.post("/{alert_id}/resolve", response_model=AlertUpdate, responses=_ERRORS)
async def resolve(request: Request, api: ApiDep, alert_id: str, body: ActionRequest) -> AlertUpdate:
    action = api.resolve(alert_id, actor=body.actor, channel="dashboard", note=body.note)
    return await _act(request, alert_id, action)


pages = APIRouter(include_in_schema=False)


@pages.get("/", response_class=HTMLResponse)
async def alert_wall(request: Request, lang: str | None = None) -> HTMLResponse:
    chosen = pick_language(lang, request.headers.get("accept-language"))
    return TEMPLATES.TemplateResponse(
        request, "wall.html", {"lang": chosen, "t": catalogue(chosen)}
    )


@pages.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


def create_app(
    api: AlertingApi, broadcaster: Broadcaster, publish_update: PublishUpdate
) -> FastAPI:
    app = FastAPI(title="eldercare", version=__version__)
    app.state.alerting = api
    app.state.broadcaster = broadcaster
    app.state.publish_update = publish_update
    app.include_router(alerts)
    app.include_router(pages)
    return app

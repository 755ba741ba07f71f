"""The FastAPI application: REST + SSE over alerting's public API, and the pages.

``create_app`` is the one factory: the service runs it under uvicorn, tests run it in
process over ASGI. Everything it needs comes in as arguments; nothing is global.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.api import AlertingApi
from dashboards.activity import ActivityBoard
from dashboards.activity_log import ActivityLog
from dashboards.context import DashboardContext, PublishUpdate
from dashboards.deps import admin
from dashboards.errors import error_responses, install_error_handlers
from dashboards.routes import ack, alerts, docs, family, homes, pages, session, visits
from dashboards.security_headers import SecurityHeaders
from dashboards.stream import Broadcaster
from eldercare import __version__
from eldercare.clock import Clock
from eldercare.topics import Topics
from gateway import rest as registry_rest

STATIC = Path(__file__).with_name("static")


def _operation_id(route: APIRoute) -> str:
    """The handler's name ("list_alerts", "acknowledge"), stable for clients; the gateway's
    registry routes get a prefix since both packages name a handler ``list_homes``."""
    prefix = "registry_" if route.path.startswith(registry_rest.router.prefix) else ""
    return prefix + route.name


def create_app(
    api: AlertingApi,
    broadcaster: Broadcaster,
    publish_update: PublishUpdate,
    *,
    engine: AsyncEngine,
    clock: Clock,
    signing_key: bytes,
    activity: ActivityBoard | None = None,
    secure_cookies: bool = False,
    docs_need_login: bool = False,
) -> FastAPI:
    app = FastAPI(
        title="eldercare dashboard",
        # Served by dashboards.routes.docs: from local files, and behind login in production.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        version=__version__,
        # operationId = the handler's name ("list_alerts", "acknowledge"): stable for clients.
        generate_unique_id_function=_operation_id,
        description=(
            "Station alert wall, homes and family view. Log in with `POST /api/session`; "
            "send the token as `Authorization: Bearer …` (browsers use the cookie). Lists "
            "answer pages `{items, limit, offset, next_offset}`; errors `{code, detail}`."
        ),
    )
    app.state.context = DashboardContext(
        api=api,
        broadcaster=broadcaster,
        publish_update=publish_update,
        engine=engine,
        clock=clock,
        signing_key=signing_key,
        activity=activity or ActivityBoard(Topics(), ActivityLog(engine, clock)),
        secure_cookies=secure_cookies,
        docs_need_login=docs_need_login,
    )
    install_error_handlers(app)
    for router in (session.router, alerts.router, homes.router, visits.router, family.api):
        app.include_router(router)
    # The registry (homes, devices, stations) is the gateway's; only admins reach it here.
    registry_rest.include(
        app,
        engine,
        clock,
        dependencies=[Depends(admin)],
        responses=error_responses(401, 403, 422),
    )
    # Signed acknowledgement links from notifications (no login: the token is the authority).
    app.include_router(ack.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.include_router(family.pages)
    app.include_router(visits.pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(docs.SWAGGER_UI_URL, StaticFiles(directory=docs.SWAGGER_UI_FILES), name="swagger_ui")
    app.add_middleware(SecurityHeaders)
    return app

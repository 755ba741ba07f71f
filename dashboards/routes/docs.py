"""The API's documentation (Swagger UI at ``/docs``, the schema at ``/openapi.json``) and the
site icon, all served by this server.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script: blank
on a station's network without internet, and refused by our Content-Security-Policy. Here
Swagger UI's files come from the ``fastapi-offline`` package and its start is a static file.
In production the page and the schema need a login: the schema maps every endpoint for
whoever asks. ReDoc is not served: one reader of the same schema is enough.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from dashboards.deps import ContextDep, MaybePrincipal
from dashboards.errors import ApiError
from dashboards.rendering import render
from dashboards.routes.pages import to_login

#: Swagger UI 5 (reads OpenAPI 3.1, which FastAPI writes), as the package ships it.
SWAGGER_UI_FILES = Path(fastapi_offline.__file__).with_name("static")
SWAGGER_UI_URL = "/docs-assets"
FAVICON = Path(__file__).parents[1] / "static" / "favicon.ico"

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi_schema(request: Request, ctx: ContextDep, principal: MaybePrincipal) -> Response:
    if ctx.docs_need_login and principal is None:
        raise ApiError(401, "log in first")
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request, ctx: ContextDep, principal: MaybePrincipal) -> Response:
    if ctx.docs_need_login and principal is None:
        return to_login(request)
    return render(request, "docs.html", principal, assets=SWAGGER_UI_URL)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(FAVICON, media_type="image/vnd.microsoft.icon")

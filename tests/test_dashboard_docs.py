"""The API documentation works without internet (Swagger UI from local files, started by a
static script the CSP allows), the site has an icon, and production hides the schema from
those not logged in."""

from __future__ import annotations

import pytest

from tests.dashboard_world import dashboard_world, fast_hashing, log_in

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)


async def test_docs_and_their_assets_come_from_this_server(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as client:
        page = await client.get("/docs")
        assets = [
            await client.get(path)
            for path in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css")
        ]
        start = await client.get("/static/docs.js")
        schema = await client.get("/openapi.json")
        icon = await client.get("/favicon.ico")
        redoc = await client.get("/redoc")
    assert page.status_code == 200
    assert "https://" not in page.text and "http://" not in page.text  # nothing from outside
    assert '<script src="/docs-assets/swagger-ui-bundle.js">' in page.text
    assert '<script src="/static/docs.js">' in page.text
    assert all(asset.status_code == 200 and len(asset.content) > 10_000 for asset in assets)
    assert "SwaggerUIBundle(" in start.text
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert redoc.status_code == 404


async def test_production_shows_the_schema_and_docs_only_after_login(engine) -> None:
    async with (
        dashboard_world(engine, docs_need_login=True) as world,
        world.client() as client,
    ):
        assert (await client.get("/openapi.json")).status_code == 401
        docs = await client.get("/docs")
        assert docs.status_code == 303 and docs.headers["location"] == "/login?next=/docs"
        assert (await client.get("/redoc")).status_code == 404
        await log_in(client, "staff1")
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/docs")).status_code == 200

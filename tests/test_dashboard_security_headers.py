"""Security headers on every kind of response, and pages the policy can hold to: no inline
script, no ``on…=`` handler attributes (the Content-Security-Policy would refuse them)."""

from __future__ import annotations

import re

import pytest

from dashboards.family_links import family_token
from tests.dashboard_world import SECRET, dashboard_world, fast_hashing, log_in

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_secured(response) -> None:  # type: ignore[no-untyped-def]
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, where
    policy = response.headers.get("content-security-policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives.get("frame-ancestors") == "'none'", where
    assert directives.get("script-src") == "'self'", where  # no 'unsafe-inline', no CDN
    assert directives.get("object-src") == "'none'", where


async def test_pages_and_api_answers_carry_the_security_headers(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as client:
        family = family_token(SECRET, "h-1", "张明", world.clock.now())
        anonymous = [
            await client.get("/login"),
            await client.get("/"),  # redirect to the login page
            await client.get("/api/alerts"),  # 401
            await client.post("/api/session", json={"username": "x", "password": "y"}),
            await client.post("/api/session", json={}),  # 422
            await client.get(f"/family/{family}"),
            await client.get("/family/forged"),
            await client.get("/ack/forged"),
            await client.get("/static/common.js"),
            await client.get("/no/such/page"),
        ]
        await log_in(client, "staff1")
        pages = [
            await client.get("/"),
            await client.get("/homes"),
            await client.get("/homes/h-1"),
            await client.get("/alerts/a-h-1-1"),
            await client.get("/alerts/missing"),
        ]
        api = [
            await client.get("/api/alerts"),
            await client.get("/api/me"),
            await client.post("/api/alerts/a-h-1-1/ack", json={}),
            await client.get("/api/alerts/missing"),
        ]
    for response in anonymous + pages + api:
        assert_secured(response)
    for page in [anonymous[0], anonymous[5], *pages[:4]]:
        assert page.status_code == 200, page.request.url.path
        assert not INLINE_SCRIPT.search(page.text), page.request.url.path
        assert not HANDLER_ATTRIBUTE.search(page.text), page.request.url.path

"""Password guessing is throttled per username and per client address, in the database
(shared by every dashboard instance), on a simulated clock."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.login_throttle import LOCKOUT, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER
from eldercare.db.models import LoginThrottleRow
from tests.dashboard_world import PASSWORD, World, dashboard_world, fast_hashing, served

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)


def client_from(world: World, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.app, client=(address, 40000)),  # type: ignore[arg-type]
        base_url="http://dashboard.test",
    )


async def log_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/session", json={"username": username, "password": password})


async def test_a_username_is_locked_after_five_failures_until_the_lock_ends(engine) -> None:
    async with dashboard_world(engine) as world:
        for attempt in range(MAX_FAILURES_PER_USER):
            # From changing addresses: the username's own count must stop the guessing.
            async with client_from(world, f"10.0.0.{attempt}") as client:
                assert (await log_in(client, "staff1", "guess")).status_code == 401
        async with client_from(world, "10.0.1.1") as client:
            refused = await log_in(client, "staff1", PASSWORD)  # the right one, still refused
            assert refused.status_code == 429
            assert refused.json()["code"] == "too_many_attempts"
            assert "15 minutes" in refused.json()["detail"]
            assert int(refused.headers["Retry-After"]) == LOCKOUT.total_seconds()
            assert (await log_in(client, "staff2", PASSWORD)).status_code == 201  # others not

            await world.clock.advance(LOCKOUT.total_seconds() - 60)
            again = await log_in(client, "staff1", PASSWORD)
            assert again.status_code == 429 and again.headers["Retry-After"] == "60"
            await world.clock.advance(60)
            assert (await log_in(client, "staff1", PASSWORD)).status_code == 201


async def test_success_clears_the_username_count(engine) -> None:
    async with dashboard_world(engine) as world, client_from(world, "10.0.0.1") as client:
        for _ in range(2):
            for _ in range(MAX_FAILURES_PER_USER - 1):
                assert (await log_in(client, "staff1", "guess")).status_code == 401
            assert (await log_in(client, "staff1", PASSWORD)).status_code == 201
        # Failures spread beyond the window do not add up either.
        for _ in range(MAX_FAILURES_PER_USER - 1):
            assert (await log_in(client, "staff2", "guess")).status_code == 401
        await world.clock.advance((timedelta(minutes=15)).total_seconds())
        assert (await log_in(client, "staff2", "guess")).status_code == 401
        assert (await log_in(client, "staff2", PASSWORD)).status_code == 201


async def test_an_address_spraying_usernames_is_locked(engine) -> None:
    async with dashboard_world(engine) as world:
        async with client_from(world, "203.0.113.9") as attacker:
            for number in range(MAX_FAILURES_PER_ADDRESS):
                assert (await log_in(attacker, f"user{number}", "guess")).status_code == 401
            assert (await log_in(attacker, "admin", PASSWORD)).status_code == 429
        async with client_from(world, "198.51.100.7") as station:
            assert (await log_in(station, "admin", PASSWORD)).status_code == 201


async def test_the_login_page_explains_a_lock_in_both_languages(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as client:
        for lang, words in (("zh-CN", "登录失败次数过多"), ("en", "Too many failed logins")):
            page = (await client.get("/login", params={"lang": lang})).text
            embedded = re.search(r'id="catalogue" type="application/json">(.*?)</script>', page)
            assert embedded is not None
            assert words in json.loads(embedded.group(1))["login.throttled"]
            assert '<script src="/static/login.js">' in page
        script = (await client.get("/static/login.js")).text
        assert 'label("login.throttled")' in script


async def test_an_operator_lifts_a_lock_from_the_command_line(engine, db_url, monkeypatch) -> None:
    from typer.testing import CliRunner

    from eldercare.app.cli import app

    monkeypatch.setenv("ELDERCARE_DATABASE_URL", db_url)

    def cli_unlock() -> str:
        result = CliRunner().invoke(app, ["users", "unlock", "staff1"])
        assert result.exit_code == 0, result.output
        return result.output

    async with dashboard_world(engine) as world, client_from(world, "10.0.2.1") as client:
        for _ in range(MAX_FAILURES_PER_USER):
            await log_in(client, "staff1", "guess")
        assert (await log_in(client, "staff1", PASSWORD)).status_code == 429
        assert "unlocked 'staff1'" in await asyncio.to_thread(cli_unlock)
        assert (await log_in(client, "staff1", PASSWORD)).status_code == 201
        assert "was not locked" in await asyncio.to_thread(cli_unlock)


@pytest.mark.parametrize(
    ("trusted_proxies", "counted"),
    [([], "ip:127.0.0.1"), (["127.0.0.1"], "ip:203.0.113.9")],
    ids=["no-proxy", "behind-a-proxy"],
)
async def test_x_forwarded_for_counts_only_from_a_configured_proxy(
    engine, trusted_proxies: list[str], counted: str
) -> None:
    """Over real HTTP (uvicorn is what reads the header): a local client forging the header
    must stay counted under its own address, or it could pick a fresh one per guess."""
    async with (
        dashboard_world(engine) as world,
        served(world.app, trusted_proxies=trusted_proxies) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        forged = {"X-Forwarded-For": "203.0.113.9"}
        response = await client.post(
            "/api/session", json={"username": "staff1", "password": "guess"}, headers=forged
        )
        assert response.status_code == 401
        async with AsyncSession(engine) as session:
            keys = set(await session.scalars(select(LoginThrottleRow.key)))
    assert keys == {"user:staff1", counted}

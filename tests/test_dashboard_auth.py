"""Logins, sessions, family links, home modes: what protects and what the inactivity lane reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from typer.testing import CliRunner

from dashboards.accounts import AccountError, add_user, authenticate
from dashboards.family_links import LINK_LIFETIME, family_link, family_token
from dashboards.principal import Role
from eldercare.db.models import HomeModeRow, UserRow
from eldercare.signing import sign
from tests.dashboard_world import PASSWORD, SECRET, dashboard_world, fast_hashing

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)


async def test_login_logout_and_wrong_passwords(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as client:
        assert (await client.get("/api/alerts")).status_code == 401
        assert (await client.get("/api/alerts")).json()["code"] == "not_authenticated"
        for username, password in (("staff1", "wrong password"), ("nobody", PASSWORD)):
            bad = await client.post(
                "/api/session", json={"username": username, "password": password}
            )
            assert bad.status_code == 401
            assert bad.json() == {"code": "bad_credentials", "detail": "wrong username or password"}
            assert "eldercare_session" not in bad.cookies

        login = await client.post("/api/session", json={"username": "staff1", "password": PASSWORD})
        assert login.status_code == 201
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        # The cookie alone is enough for a browser...
        assert (await client.get("/api/me")).json()["station_id"] == "s-1"
        # ...but not for a change requested by another site's page.
        foreign = await client.post(
            "/api/alerts/a-h-1-1/ack", json={}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        assert foreign.json()["code"] == "cross_origin"
        assert (await world.api.get("a-h-1-1")).status.value == "open"

        # Only our own paths, and never the login form itself (it looks like a refused password).
        for crafted in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/login"):
            page = await client.get("/login", params={"next": crafted})
            assert 'data-next="/"' in page.text, crafted
        assert 'data-next="/homes"' in (await client.get("/login?next=/homes")).text

        assert (await client.delete("/api/session")).status_code == 204
        client.cookies.clear()
        token = login.json()["token"]
        after = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert after.status_code == 401  # logged out means the token is dead, not just forgotten


async def test_sessions_expire_and_disabled_users_are_locked_out(engine) -> None:
    async with dashboard_world(engine) as world:
        token = await world.token("staff1")
        async with world.client(token) as client:
            assert (await client.get("/api/me")).status_code == 200
            await world.clock.advance((timedelta(hours=15)).total_seconds())
            assert (await client.get("/api/me")).status_code == 401
        token = await world.token("staff2")
        async with async_sessionmaker(engine).begin() as session:
            await session.execute(
                UserRow.__table__.update().where(UserRow.username == "staff2").values(active=False)
            )
        async with world.client(token) as client:
            assert (await client.get("/api/me")).status_code == 401


async def test_users_need_their_place_and_a_real_password(engine) -> None:
    async with dashboard_world(engine) as world:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        now = world.clock.now()
        for kwargs, reason in (
            ({"role": Role.STAFF}, "needs a station"),
            ({"role": Role.FAMILY}, "needs a home"),
            ({"role": Role.STAFF, "station_id": "s-9"}, "no station"),
            ({"role": Role.SUPERVISOR, "station_id": "s-1"}, "needs a centre"),
            ({"role": Role.ADMIN, "password": "short"}, "at least 10"),
            ({"role": Role.ADMIN, "username": "staff1"}, "exists"),
        ):
            arguments = {"username": "new", "password": PASSWORD, "now": now, **kwargs}
            async with sessions.begin() as session:
                with pytest.raises(AccountError, match=reason):
                    await add_user(session, **arguments)  # type: ignore[arg-type]
        async with sessions() as session:
            stored = await session.scalar(select(UserRow).where(UserRow.username == "staff1"))
            assert stored is not None
            assert PASSWORD not in str(stored.password_hash)
            assert stored.password_hash.startswith("$argon2id$")
            assert await authenticate(session, "staff1", PASSWORD) is not None
            assert await authenticate(session, "staff1", PASSWORD + "x") is None


def test_cli_adds_a_user_with_a_password_from_stdin(tmp_path, monkeypatch) -> None:
    from eldercare.app.cli import app

    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(
        app, ["users", "add", "wang", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    assert "added admin 'wang'" in added.output
    refused = runner.invoke(
        app,
        ["users", "add", "li", "--role", "staff", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert refused.exit_code == 1
    assert "needs a station" in refused.output


async def test_family_link_opens_the_home_and_acknowledges_only_there(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as client:
        now = world.clock.now()
        token = family_token(SECRET, "h-1", "张明", now)
        assert family_link("https://x.example/", token) == f"https://x.example/family/{token}"

        page = await client.get(f"/family/{token}")
        assert page.status_code == 200
        assert "h-1 张奶奶家" in page.text and "需要关注" in page.text  # an alert is open
        assert "h-2" not in page.text

        other = await client.post(f"/api/family/{token}/alerts/a-h-2-1/ack", json={})
        assert other.status_code == 404
        acked = await client.post(f"/api/family/{token}/alerts/a-h-1-1/ack", json={})
        assert acked.status_code == 200, acked.text
        assert acked.json()["actor"] == "张明 (family)"
        assert acked.json()["channel"] == "family_link"
        assert [update.alert_id for update in world.published] == ["a-h-1-1"]
        # A family link is not a login to anything else.
        assert (
            await client.get("/api/alerts", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401

        forged = sign({"purpose": "ack", "home": "h-2"}, SECRET, now + LINK_LIFETIME)
        assert (await client.get(f"/family/{forged}")).status_code == 401
        assert (await client.get(f"/family/{token}x")).status_code == 401
        await world.clock.advance((LINK_LIFETIME).total_seconds())
        expired = await client.get(f"/family/{token}?lang=en")
        assert expired.status_code == 401
        assert "This link has expired" in expired.text


async def test_home_mode_is_stored_for_the_inactivity_detector(engine) -> None:
    async with (
        dashboard_world(engine) as world,
        world.client(await world.token("staff1")) as client,
    ):
        until = world.clock.now() + timedelta(days=3)
        set_mode = await client.put(
            "/api/homes/h-1/mode",
            json={"mode": "hospital", "until": until.isoformat(), "note": "肺炎住院"},
        )
        assert set_mode.status_code == 200, set_mode.text
        assert set_mode.json()["mode"] == "hospital"
        async with async_sessionmaker(engine)() as session:
            row = await session.get(HomeModeRow, "h-1")
            assert row is not None
            assert (row.mode, row.until, row.set_by) == ("hospital", until, "staff1 姓名")
        home = (await client.get("/api/homes/h-1")).json()
        assert home["mode"]["mode"] == "hospital"
        past = await client.put(
            "/api/homes/h-1/mode",
            json={"mode": "away", "until": (world.clock.now() - timedelta(hours=1)).isoformat()},
        )
        assert past.status_code == 422
        assert past.json()["code"] == "invalid_request"
        await world.clock.advance((timedelta(days=3, seconds=1)).total_seconds())
        client.headers["Authorization"] = f"Bearer {await world.token('staff1')}"  # new shift
        assert (await client.get("/api/homes/h-1")).json()["mode"] is None  # back home
        back = await client.put("/api/homes/h-1/mode", json={"mode": "home"})
        assert back.status_code == 200 and back.json() is None

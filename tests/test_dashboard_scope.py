"""Roles and scope: each role sees exactly its homes, on every endpoint and on the stream."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from dashboards.principal import Principal, Role
from dashboards.scope import Placement, may_see, placement_of, visible_home_ids
from tests.dashboard_world import HOMES, SEES, USERS, dashboard_world, fast_hashing

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

ALL_ALERTS = {home: f"a-{home}-1" for home in HOMES}


def principal(username: str) -> Principal:
    role, station, home = USERS[username]
    return Principal(name=username, role=role, station_id=station, home_id=home)


@pytest.mark.parametrize(
    ("who", "placement", "expected"),
    [
        (Principal("a", Role.STAFF, station_id="s-1"), Placement("h", "s-1", "c"), True),
        (Principal("a", Role.STAFF, station_id="s-1"), Placement("h", "s-2", "c"), False),
        (Principal("a", Role.STAFF, station_id="s-1"), Placement("h", None, None), False),
        (Principal("a", Role.STAFF), Placement("h", None, None), False),
        (Principal("a", Role.SUPERVISOR, station_id="c"), Placement("h", "s-2", "c"), True),
        (Principal("a", Role.SUPERVISOR, station_id="c"), Placement("h", "s-2", "d"), False),
        (Principal("a", Role.FAMILY, home_id="h"), Placement("h", "s-1", "c"), True),
        (Principal("a", Role.FAMILY, home_id="h"), Placement("g", "s-1", "c"), False),
        (Principal("a", Role.ADMIN), Placement("h", None, None), True),
    ],
)
def test_may_see(who: Principal, placement: Placement, expected: bool) -> None:
    assert may_see(who, placement) is expected


async def test_visible_homes_agree_with_may_see_for_every_user(engine) -> None:
    async with dashboard_world(engine):
        sessions = async_sessionmaker(engine)
        async with sessions() as session:
            for username, expected in SEES.items():
                who = principal(username)
                assert set(await visible_home_ids(session, who)) == expected, username
                for home in HOMES:
                    placement = await placement_of(session, home)
                    assert placement is not None
                    assert may_see(who, placement) is (home in expected), (username, home)


async def test_no_endpoint_leaks_across_stations(engine) -> None:
    async with dashboard_world(engine) as world:
        for username in USERS:
            async with world.client(await world.token(username)) as client:
                await check_scope(client, username)
        # Every refused attempt changed nothing and told nobody.
        for alert_id in ALL_ALERTS.values():
            assert (await world.api.get(alert_id)).status.value == "open"
            assert (await world.api.timeline(alert_id))[-1].status.value == "open"
        assert world.published == []


async def check_scope(client: httpx.AsyncClient, username: str) -> None:
    visible = SEES[username]
    alerts = (await client.get("/api/alerts")).json()["items"]
    assert {alert["home"] for alert in alerts} == visible, username
    homes = (await client.get("/api/homes")).json()["items"]
    assert {home["home_id"] for home in homes} == visible, username

    for home, alert_id in ALL_ALERTS.items():
        allowed = home in visible
        expected = 200 if allowed else 404
        for path in (
            f"/api/alerts/{alert_id}",
            f"/api/alerts/{alert_id}/timeline",
            f"/api/alerts/{alert_id}/responses",
            f"/api/alerts?home_id={home}",
            f"/api/homes/{home}",
        ):
            response = await client.get(path)
            assert response.status_code == expected, (username, path, response.text)
        page = await client.get(f"/homes/{home}")
        assert (page.status_code == 200) is allowed, (username, home)
        assert ("张奶奶" in page.text) is allowed, (username, home)
        alert_page = await client.get(f"/alerts/{alert_id}")
        assert (alert_page.status_code == 200) is (allowed and username != "family1")
        if allowed:
            continue
        for method, path, body in (
            ("POST", f"/api/alerts/{alert_id}/ack", {}),
            ("POST", f"/api/alerts/{alert_id}/resolve", {"outcome": "helped_at_home"}),
            ("POST", f"/api/alerts/{alert_id}/response", {"state": "on_site"}),
            ("PUT", f"/api/homes/{home}/mode", {"mode": "away"}),
        ):
            response = await client.request(method, path, json=body)
            assert response.status_code in (403, 404), (username, method, path)


async def test_family_member_can_acknowledge_but_not_resolve_or_set_modes(engine) -> None:
    async with (
        dashboard_world(engine) as world,
        world.client(await world.token("family1")) as client,
    ):
        refused = await client.post("/api/alerts/a-h-1-1/resolve", json={"outcome": "other"})
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        mode = await client.put("/api/homes/h-1/mode", json={"mode": "away"})
        assert mode.status_code == 403
        acked = await client.post("/api/alerts/a-h-1-1/ack", json={})
        assert acked.status_code == 200, acked.text
        assert acked.json()["actor"] == "family1 姓名 (family)"
        assert (await client.get("/")).headers["location"] == "/homes/h-1"
        # A relative with an account sees the family page, and can log out of it.
        page = await client.get("/homes/h-1")
        assert 'id="logout"' in page.text


async def test_stream_sends_each_viewer_only_their_homes() -> None:
    from dashboards.stream import Broadcaster

    broadcaster = Broadcaster()
    streams = {
        name: broadcaster.frames(lambda place, n=name: may_see(principal(n), place))
        for name in SEES
    }
    for stream in streams.values():
        assert await anext(stream) == ": connected\n\n"
    placements = {
        "h-1": Placement("h-1", "s-1", "c-east"),
        "h-2": Placement("h-2", "s-2", "c-east"),
        "h-3": Placement("h-3", "s-3", "c-west"),
        "h-x": Placement("h-x", None, None),
    }
    for home, placement in placements.items():
        broadcaster.publish("alert", {"home": home}, placement)
    broadcaster.publish("end", {}, Placement("h-end", None, None))  # admin only: a marker

    for name, stream in streams.items():
        received = []
        while True:
            try:
                frame = await asyncio.wait_for(anext(stream), 0.2)
            except TimeoutError:
                break
            if frame.startswith("event: end"):
                break
            received.append(frame)
        homes = {home for home in placements if f'"home": "{home}"' in "".join(received)}
        assert homes == SEES[name], name
        await stream.aclose()
    assert broadcaster.listeners == 0


async def test_stream_ends_when_the_login_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboards import stream as stream_module

    monkeypatch.setattr(stream_module, "KEEPALIVE_S", 0.01)
    broadcaster = stream_module.Broadcaster()
    valid = True

    async def still_valid() -> bool:
        return valid

    frames = stream_module.while_valid(broadcaster.frames(lambda _: True), still_valid)
    assert await anext(frames) == ": connected\n\n"
    assert await anext(frames) == stream_module.KEEPALIVE
    assert broadcaster.listeners == 1
    valid = False
    with pytest.raises(StopAsyncIteration):
        await anext(frames)
    assert broadcaster.listeners == 0  # the inner stream was closed, its queue is gone

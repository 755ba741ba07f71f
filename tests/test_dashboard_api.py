"""The dashboard's REST API and page over a real alert store, without a broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from alerting.api import AlertingApi
from dashboards.app import create_app
from dashboards.i18n import MESSAGES, catalogue, pick_language
from dashboards.stream import Broadcaster
from eldercare.clock import SimulatedClock
from eldercare.models import Alert, AlertKind, AlertUpdate, LocalizedText, Severity


@pytest.fixture
async def setup(engine):
    clock = SimulatedClock(datetime(2026, 11, 25, 8, tzinfo=UTC))
    api = AlertingApi(engine, clock)
    published: list[AlertUpdate] = []

    async def publish(update: AlertUpdate) -> None:
        published.append(update)

    app = create_app(api, Broadcaster(), publish)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client, api, published, app


async def raise_alert(api: AlertingApi, alert_id: str = "A1") -> None:
    await api.record(
        Alert(
            alert_id=alert_id,
            home="h-0001",
            kind=AlertKind.CALL_BUTTON,
            severity=Severity.CRITICAL,
            raised_at=datetime(2026, 11, 25, 8, tzinfo=UTC),
            explanation=LocalizedText(zh_cn="呼叫按钮被按下", en="Call button pressed"),
        )
    )


async def test_ack_publishes_the_update_and_refuses_twice(setup) -> None:
    client, api, published, app = setup
    await raise_alert(api)
    url = app.url_path_for("acknowledge", alert_id="A1")
    response = await client.post(url, json={"actor": "王芳"})
    assert response.status_code == 200
    assert [(u.alert_id, u.status, u.actor) for u in published] == [("A1", "acknowledged", "王芳")]
    again = await client.post(url, json={"actor": "李"})
    assert again.status_code == 409
    assert "acknowledged" in again.json()["detail"]
    assert len(published) == 1


async def test_errors_are_clear(setup) -> None:
    client, api, _, app = setup
    missing = await client.post(
        app.url_path_for("acknowledge", alert_id="nope"), json={"actor": "x"}
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "alert nope not found"}
    await raise_alert(api)
    no_actor = await client.post(app.url_path_for("acknowledge", alert_id="A1"), json={})
    assert no_actor.status_code == 422
    assert (await client.get("/api/alerts", params={"limit": 0})).status_code == 422


async def test_list_filters_by_home(setup) -> None:
    client, api, _, _ = setup
    await raise_alert(api)
    assert len((await client.get("/api/alerts")).json()) == 1
    assert (await client.get("/api/alerts", params={"home": "h-0002"})).json() == []


@pytest.mark.parametrize(
    ("query", "header", "title"),
    [
        ({}, None, MESSAGES["zh-CN"]["title"]),
        ({"lang": "en"}, None, MESSAGES["en"]["title"]),
        ({}, "en-GB,en;q=0.9", MESSAGES["en"]["title"]),
        ({"lang": "zh-CN"}, "en-GB", MESSAGES["zh-CN"]["title"]),
    ],
)
async def test_wall_page_language(setup, query, header, title) -> None:
    client, *_ = setup
    headers = {"accept-language": header} if header else {}
    page = await client.get("/", params=query, headers=headers)
    assert page.status_code == 200
    assert f"<title>{title}</title>" in page.text


def test_catalogue_has_every_key_in_both_languages() -> None:
    assert MESSAGES["zh-CN"].keys() == MESSAGES["en"].keys()
    assert pick_language(None, None) == "zh-CN"
    assert catalogue("en")["acknowledge"] == "Acknowledge"


async def test_broadcaster_drops_a_client_that_does_not_read() -> None:
    broadcaster = Broadcaster()
    frames = broadcaster.frames()
    assert await anext(frames) == ": connected\n\n"
    assert broadcaster.listeners == 1
    for n in range(1001):
        broadcaster.publish("alert", {"n": n})
    assert broadcaster.listeners == 0
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(frames), 1)

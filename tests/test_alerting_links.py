"""Signed acknowledgement links (``alerting.signed_links``), served by the dashboard's page
(``dashboards/routes/ack.py``) through ``alerting.api``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.api import AlertingApi
from alerting.signed_links import AckClaim, AckLinks
from eldercare.clock import Clock, SimulatedClock
from eldercare.models import AlertStatus, AlertUpdate
from tests.alerting_support import ack_link_app, make_alert

START = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)
LINKS = AckLinks(b"s" * 32, "https://care.example", timedelta(hours=24))


def app_for(
    api: AlertingApi, published: list[AlertUpdate], engine: AsyncEngine, clock: Clock
) -> FastAPI:
    async def publish(update: AlertUpdate) -> None:
        published.append(update)

    return ack_link_app(api, publish, engine, clock)


async def test_link_confirms_then_acknowledges_once(engine: AsyncEngine) -> None:
    clock = SimulatedClock(START)
    api = AlertingApi(engine, clock, links=LINKS)
    await api.record(make_alert("L1", START))
    published: list[AlertUpdate] = []
    app = app_for(api, published, engine, clock)
    url = LINKS.url(AckClaim("L1", "contact:1", "李明", "zh-CN"), clock.now())
    assert url.startswith("https://care.example/ack/")
    path = url.removeprefix("https://care.example")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://test"
    ) as client:
        page = await client.get(path)
        assert page.status_code == 200
        assert "由您来处理这条告警吗" in page.text and '<form method="post">' in page.text
        assert "门厅呼叫按钮被按下" in page.text
        # looking at the page (or a chat app's link preview) acknowledges nothing
        assert (await api.get("L1")).status is AlertStatus.OPEN

        clock.set(START + timedelta(seconds=40))
        done = await client.post(path)
        assert done.status_code == 200
        assert "已确认，由您负责" in done.text
        view = await api.get("L1")
        assert (view.status, view.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, "李明")
        assert [(u.status, u.actor, u.channel) for u in published] == [
            (AlertStatus.ACKNOWLEDGED, "李明", "link")
        ]

        again = await client.post(path)
        assert again.status_code == 200
        assert "这条告警已有人处理" in again.text and "已由 李明 负责" in again.text
        assert len(published) == 1


async def test_tampered_and_expired_links_are_refused_with_a_clear_page(
    engine: AsyncEngine,
) -> None:
    clock = SimulatedClock(START)
    api = AlertingApi(engine, clock, links=LINKS)
    await api.record(make_alert("L2", START))
    published: list[AlertUpdate] = []
    token = LINKS.token(AckClaim("L2", "staff:wang", "Wang Fang", "en"), clock.now())
    body, mac = token.split(".")
    forged_claims = LINKS.token(AckClaim("L2", "staff:x", "Mallory", "en"), clock.now())
    forged = f"{forged_claims.split('.')[0]}.{mac}"  # someone else's name under Wang's MAC
    other_key = AckLinks(b"x" * 32, "https://care.example", timedelta(hours=24))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app_for(api, published, engine, clock)),
        base_url="http://test",
        headers={"accept-language": "en"},
    ) as client:
        for bad in (
            forged,
            f"{body}.{mac[:-2]}",
            "garbage",
            other_key.token(AckClaim("L2", "staff:wang", "Wang Fang", "en"), clock.now()),
        ):
            for method in ("GET", "POST"):
                page = await client.request(method, f"/ack/{bad}")
                assert page.status_code == 403, (bad, method)
                assert "This link is not valid" in page.text
                assert "nothing was acknowledged" in page.text

        clock.set(START + timedelta(hours=24, seconds=1))
        for method in ("GET", "POST"):
            page = await client.request(method, f"/ack/{token}")
            assert page.status_code == 410
            assert "This link has expired" in page.text
    assert (await api.get("L2")).status is AlertStatus.OPEN
    assert published == []

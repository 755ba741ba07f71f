"""No channel URL, token or password on a screen or in an API answer: the alert timeline of
rows stored before deliveries were labelled (alerting's own notes are clean at the source,
see test_alerting_channels and test_alerting_escalation)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from eldercare.db.models import AlertEventRow
from tests.dashboard_world import dashboard_world, fast_hashing, log_in

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

URL = "json://user:s3cret@127.0.0.1:41883/inbox/station?token=abc"
NOTES = [
    f"delivered to 王芳 via {URL} (try 1)",
    "no channel reached 王芳 (try 1), retry in 30s: json://user:****@127.0.0.1:41883/inbox/"
    "station: HTTPConnectionPool(host='127.0.0.1', port=41883): Max retries exceeded with "
    "url: /inbox/station?token=abc&cto=4&rto=8 (Caused by NewConnectionError)",
]
SECRETS = ("s3cret", "token=", "abc", "user:", "inbox", "://")


async def test_the_timeline_shows_the_channel_kind_never_its_url(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as client:
        async with async_sessionmaker(engine).begin() as session:
            session.add_all(
                AlertEventRow(
                    alert_id="a-h-1-1",
                    at=world.clock.now(),
                    status="notified",
                    note=note,
                    actor="alerting",
                )
                for note in NOTES
            )
        await log_in(client, "staff1")
        page = await client.get("/alerts/a-h-1-1")
        api = await client.get("/api/alerts/a-h-1-1/timeline")
    assert page.status_code == 200 and api.status_code == 200
    assert "delivered to 王芳 via json …0.1 (try 1)" in page.text
    assert "delivered to 王芳 via json …0.1 (try 1)" in api.text
    for secret in SECRETS:
        assert secret not in page.text, secret
        assert secret not in api.text, secret

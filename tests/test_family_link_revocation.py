"""Issue 14 #17: a family link could not be revoked for its 7 days. Staff revoke a relative's
links (every link issued to them so far), and a relative removed from the home's contacts
loses every link; both refused on every family request, page and action alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from dashboards.family_links import LINK_LIFETIME, family_token
from eldercare.db.models import ContactRow
from eldercare.signing import sign
from tests.dashboard_world import SECRET, dashboard_world, fast_hashing

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

REVOKE = "/api/homes/h-1/contacts/张明/revoke-family-links"


async def test_staff_revoke_a_relatives_links_and_later_links_work_again(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as anyone:
        old = family_token(SECRET, "h-1", "张明", world.clock.now())
        assert (await anyone.get(f"/family/{old}")).status_code == 200
        async with world.client(await world.token("staff2")) as other_station:
            assert (await other_station.post(REVOKE)).status_code == 404, "not their home"
        async with world.client(await world.token("family1")) as family:
            assert (await family.post(REVOKE)).status_code == 403
        await world.clock.advance(60)
        async with world.client(await world.token("staff1")) as staff:
            page = (await staff.get("/homes/h-1?lang=en")).text
            assert 'data-contact="张明"' in page and "Revoke family links" in page
            revoked = await staff.post(REVOKE)
            assert revoked.status_code == 200, revoked.text
            assert revoked.json()["contact"] == "张明"
            missing = await staff.post("/api/homes/h-1/contacts/nobody/revoke-family-links")
            assert missing.status_code == 404

        assert (await anyone.get(f"/family/{old}")).status_code == 401
        ack = await anyone.post(f"/api/family/{old}/alerts/a-h-1-1/ack", json={})
        assert ack.status_code == 401 and ack.json()["code"] == "link_revoked"
        assert world.published == []

        await world.clock.advance(60)
        fresh = family_token(SECRET, "h-1", "张明", world.clock.now())  # the next alert's link
        assert (await anyone.get(f"/family/{fresh}")).status_code == 200
        # A link signed before "iat" existed counts as issued a lifetime before it expires.
        legacy = sign(
            {"purpose": "family", "home": "h-1", "name": "张明", "lang": "zh-CN"},
            SECRET,
            world.clock.now() - timedelta(seconds=120) + LINK_LIFETIME,
        )
        assert (await anyone.get(f"/family/{legacy}")).status_code == 401


async def test_a_relative_removed_from_the_home_loses_their_links(engine) -> None:
    async with dashboard_world(engine) as world, world.client() as anyone:
        token = family_token(SECRET, "h-1", "张明", world.clock.now())
        assert (await anyone.get(f"/family/{token}")).status_code == 200
        async with async_sessionmaker(engine).begin() as session:
            await session.execute(delete(ContactRow).where(ContactRow.home_id == "h-1"))
        assert (await anyone.get(f"/family/{token}")).status_code == 401
        ack = await anyone.post(f"/api/family/{token}/alerts/a-h-1-1/ack", json={})
        assert ack.status_code == 401

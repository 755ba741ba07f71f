"""Tell the inactivity rule what the database knows: device kinds and rooms, home time
zones, and the staff's "away / in hospital until …" home mode.

Without it the rule infers meaning from device ids ("door-front", "pir-living") and assumes
the default time zone; with it, "kitchen by 10:00" means 10:00 in the home's own zone, and
a flat whose resident is in hospital raises no inactivity alarm at night.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from detector.activity.rule import InactivityRule
from detector.activity.sensors import classify
from eldercare.db.models import HomeModeRow
from gateway import registry_api

#: "Away" without an end date: until staff set the home back.
UNTIL_FURTHER_NOTICE = datetime(9999, 1, 1, tzinfo=UTC)


async def sync_from_registry(
    engine: AsyncEngine,
    rule: InactivityRule,
    now: datetime,
    keep: Callable[[str], bool] = lambda home: True,
) -> int:
    """Load every registered device into the rule's directory and every home's mode into
    the rule's holiday mode; returns how many devices. ``keep`` picks the homes (a replica's
    shard): a detector serving one shard holds nothing of the others'."""
    async with AsyncSession(engine) as session:
        homes = [(h, tz) for h, tz in (await registry_api.timezones(session)).items() if keep(h)]
        devices = [d for d in await registry_api.all_devices(session) if keep(d[0])]
        modes = [
            row for row in (await session.scalars(select(HomeModeRow))).all() if keep(row.home_id)
        ]
    away = {
        row.home_id: (row.until or UNTIL_FURTHER_NOTICE, f"{row.mode} {row.note}".strip())
        for row in modes
        if row.in_force(now)
    }
    for home in set(rule.homes) | set(away):
        until, reason = away.get(home, (None, ""))
        rule.follow_away(home, until, reason, now)
    for home, timezone in homes:
        rule.set_timezone(home, timezone)
    for home, device, kind, room in devices:
        contact = "door" in (kind or "").lower() or "contact" in (kind or "").lower()
        rule.directory.set(home, device, classify(device, kind, room, contact=contact))
    return len(devices)

"""Tell the inactivity rule what the registry knows: device kinds and rooms, home time zones.

Without it the rule infers meaning from device ids ("door-front", "pir-living") and assumes
the default time zone; with it, "kitchen by 10:00" means 10:00 in the home's own zone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from detector.activity.rule import InactivityRule
from detector.activity.sensors import classify
from eldercare.db.models import Device, Home


async def sync_from_registry(engine: AsyncEngine, rule: InactivityRule) -> int:
    """Load every registered device into the rule's directory; returns how many."""
    async with engine.connect() as connection:
        homes = (await connection.execute(select(Home.id, Home.timezone))).all()
        devices = (
            await connection.execute(select(Device.home_id, Device.id, Device.kind, Device.room))
        ).all()
    for home, timezone in homes:
        rule.set_timezone(home, timezone)
    for home, device, kind, room in devices:
        contact = "door" in (kind or "").lower() or "contact" in (kind or "").lower()
        rule.directory.set(home, device, classify(device, kind, room, contact=contact))
    return len(devices)

"""The device registry: which homes and devices exist. The gateway is its only writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from eldercare.db.models import Device, Home


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    id: str
    kind: str
    room: str | None = None


async def register_home(
    engine: AsyncEngine,
    home_id: str,
    devices: Iterable[DeviceSpec],
    *,
    now: datetime,
    name: str = "",
    station_id: str | None = None,
) -> None:
    """Create or update a home and its devices (idempotent, so imports can be re-run)."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        home = await session.get(Home, home_id)
        if home is None:
            session.add(Home(id=home_id, name=name, station_id=station_id, created_at=now))
        else:
            home.name = name or home.name
            home.station_id = station_id or home.station_id
        for spec in devices:
            device = await session.get(Device, (home_id, spec.id))
            if device is None:
                session.add(
                    Device(
                        home_id=home_id, id=spec.id, kind=spec.kind, room=spec.room, created_at=now
                    )
                )
            else:
                device.kind, device.room = spec.kind, spec.room


async def known_devices(engine: AsyncEngine) -> frozenset[tuple[str, str]]:
    """All (home, device) pairs; the gateway's cache of who may talk to us."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(Device.home_id, Device.id))
        return frozenset((home, device) for home, device in rows)

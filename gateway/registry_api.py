"""The registry's public read API: every query other services make on the registry tables.

The gateway writes the registry (stations, staff, homes, residents, contacts, devices:
``gateway/registry.py``); detector, alerting and dashboards read it only through this
module (DESIGN §1, as they read alerts only through ``alerting/api.py``), so the shapes and
orders they rely on ("residents by id", "contacts by rank") are written once and a schema
change touches one package. import-linter allows these imports and no other of gateway/;
``tests/test_layers.py`` refuses registry rows imported anywhere else.

Functions take the caller's session, so a read stays inside the caller's transaction (the
escalation loop reads the home in the transaction that fires the tier). They return the
ORM rows: callers build their own views from them, and must not write through them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncResult, AsyncSession
from sqlalchemy.orm import Session, aliased

from eldercare.db.models import (
    ContactRow,
    DeviceRow,
    HomeRow,
    RegistryVersionRow,
    ResidentRow,
    StaffRow,
    StationRow,
)

T = TypeVar("T")

__all__ = [
    "ContactRow",
    "DevicePlace",
    "DeviceRow",
    "HomePlacement",
    "HomeRow",
    "PlacedHousehold",
    "ResidentRow",
    "Shards",
    "StaffRow",
    "StationRow",
]


class HomePlacement(NamedTuple):
    """Where a home sits in the hierarchy: its station and that station's centre."""

    home_id: str
    station_id: str | None
    centre_id: str | None


class DevicePlace(NamedTuple):
    """A device's kind and room, without its ORM row."""

    home_id: str
    device_id: str
    kind: str
    room: str | None


async def home(session: AsyncSession, home_id: str) -> HomeRow | None:
    return await session.get(HomeRow, home_id)


def home_now(session: Session, home_id: str) -> HomeRow | None:
    """``home`` in a sync session: a read inside one call's transaction
    (``eldercare.db.one_call``: alerting stores an alert that way)."""
    return session.get(HomeRow, home_id)


async def station(session: AsyncSession, station_id: str) -> StationRow | None:
    return await session.get(StationRow, station_id)


async def homes(session: AsyncSession, home_ids: Iterable[str]) -> list[HomeRow]:
    """The known homes among ``home_ids`` (unknown ids are left out), in no order."""
    return list(await session.scalars(select(HomeRow).where(HomeRow.id.in_(set(home_ids)))))


class Shards(NamedTuple):
    """Some of the shards homes are hashed into (a detector replica's)."""

    count: int
    owned: frozenset[int]

    def holds(self) -> ColumnElement[bool]:
        return (HomeRow.shard_hash % self.count).in_(sorted(self.owned))


async def timezones(session: AsyncSession, shards: Shards | None = None) -> dict[str, str]:
    """Every home's IANA time zone (the given shards' homes only)."""
    query = select(HomeRow.id, HomeRow.timezone)
    if shards is not None:
        query = query.where(shards.holds())
    return {home: timezone for home, timezone in (await session.execute(query)).all()}


async def home_timezone(session: AsyncSession, home_id: str) -> str | None:
    return await session.scalar(select(HomeRow.timezone).where(HomeRow.id == home_id))


async def stations_and_timezones(session: AsyncSession) -> dict[str, tuple[str | None, str]]:
    """Every home's station and time zone (response figures group by station and month)."""
    rows = await session.execute(select(HomeRow.id, HomeRow.station_id, HomeRow.timezone))
    return {home_id: (station_id, timezone) for home_id, station_id, timezone in rows}


async def registry_version(session: AsyncSession) -> int | None:
    """The registry's version: it moves with every write of homes, devices or home modes
    (a trigger, ``RegistryVersionRow``), so a reader that holds a copy read at version ``v``
    re-reads only when this is not ``v`` any more. Read it BEFORE the rows: a write landing
    between the two reads is then in the rows or moves the version seen next time, never
    neither. ``None`` if the row is missing (no trigger can bump it): read every time."""
    return await session.scalar(select(RegistryVersionRow.version))


# --- people ---------------------------------------------------------------------------------


async def residents(session: AsyncSession, home_id: str) -> list[ResidentRow]:
    """The home's residents in registration order (the first is "the" resident)."""
    return await residents_of(session, [home_id])


async def residents_of(session: AsyncSession, home_ids: Iterable[str]) -> list[ResidentRow]:
    return list(
        await session.scalars(
            select(ResidentRow)
            .where(ResidentRow.home_id.in_(set(home_ids)))
            .order_by(ResidentRow.id)
        )
    )


async def resident_names(session: AsyncSession, home_id: str) -> list[str]:
    return [row.name for row in await residents(session, home_id)]


async def contacts(session: AsyncSession, home_id: str) -> list[ContactRow]:
    """The home's family contacts in the order they are called."""
    return await contacts_of(session, [home_id])


async def contacts_of(session: AsyncSession, home_ids: Iterable[str]) -> list[ContactRow]:
    return list(
        await session.scalars(
            select(ContactRow)
            .where(ContactRow.home_id.in_(set(home_ids)))
            .order_by(ContactRow.position, ContactRow.id)
        )
    )


async def active_staff(session: AsyncSession, station_id: str, role: str) -> list[StaffRow]:
    return list(
        await session.scalars(
            select(StaffRow)
            .where(
                StaffRow.station_id == station_id, StaffRow.role == role, StaffRow.active.is_(True)
            )
            .order_by(StaffRow.id)
        )
    )


# --- devices --------------------------------------------------------------------------------


async def devices_of(session: AsyncSession, home_ids: Iterable[str]) -> list[DeviceRow]:
    return list(
        await session.scalars(
            select(DeviceRow).where(DeviceRow.home_id.in_(set(home_ids))).order_by(DeviceRow.id)
        )
    )


#: Devices read per fetch where every device is read (here and ``gateway.registry``).
READ_PART = 5_000


async def rows_in_parts(
    result: AsyncResult[Any], make: Callable[..., T], part: int = READ_PART
) -> list[T]:
    """Every row of a streamed query as ``make(*row)``, ``part`` rows a fetch, the loop let
    in after each: 160 000 devices (10 000 homes) made in one go held a service's event
    loop for about 0.3 s (issue 18). The explicit yield is needed because a driver's
    prefetched rows (PostgreSQL's) come without a wait."""
    made: list[T] = []
    async for rows in result.partitions(part):
        made += [make(*row) for row in rows]
        await asyncio.sleep(0)
    return made


async def all_devices(
    session: AsyncSession, shards: Shards | None = None, part: int = READ_PART
) -> list[DevicePlace]:
    """Every registered device (of the given shards' homes), without loading ORM objects
    (the detector loads them all, every minute), read in parts (``rows_in_parts``)."""
    query = select(DeviceRow.home_id, DeviceRow.id, DeviceRow.kind, DeviceRow.room)
    if shards is not None:
        query = query.join(HomeRow, HomeRow.id == DeviceRow.home_id).where(shards.holds())
    return await rows_in_parts(await session.stream(query), DevicePlace, part)


async def device_rooms(
    session: AsyncSession, home_ids: Sequence[str] | None = None
) -> dict[tuple[str, str], str | None]:
    """(home, device) → room, for the given homes or all of them."""
    query = select(DeviceRow.home_id, DeviceRow.id, DeviceRow.room)
    if home_ids is not None:
        query = query.where(DeviceRow.home_id.in_(home_ids))
    return {(home_id, device_id): room for home_id, device_id, room in await session.execute(query)}


# --- placements -----------------------------------------------------------------------------


async def placement(session: AsyncSession, home_id: str) -> HomePlacement | None:
    station_row = aliased(StationRow)
    query = (
        select(HomeRow.id, HomeRow.station_id, station_row.centre_id)
        .outerjoin(station_row, station_row.id == HomeRow.station_id)
        .where(HomeRow.id == home_id)
    )
    row = (await session.execute(query)).first()
    return HomePlacement(*row) if row else None


class PlacedHousehold(NamedTuple):
    """One row of ``placed_households``: a home, its station's centre, one resident (None
    when it has none) and its first contact (None when it has none)."""

    home: HomeRow
    centre_id: str | None
    resident: ResidentRow | None
    first_contact: ContactRow | None


async def placed_households(
    session: AsyncSession, home_ids: Iterable[str]
) -> list[PlacedHousehold]:
    """The homes with their placement, residents (by id) and first contact (by position,
    then id), in one query however many homes: a home's row repeats once per resident.

    The same reads as ``placement``, ``homes``, ``residents_of`` and ``contacts_of``[0], in
    one round trip: the wall's alert update needs all of them, and each round trip's answer
    waits for a turn of the dashboard's busy loop (issue 18)."""
    station_row = aliased(StationRow)
    first_contact = (
        select(ContactRow.id)
        .where(ContactRow.home_id == HomeRow.id)
        .order_by(ContactRow.position, ContactRow.id)
        .limit(1)
        .correlate(HomeRow)
        .scalar_subquery()
    )
    query = (
        select(HomeRow, station_row.centre_id, ResidentRow, ContactRow)
        .outerjoin(station_row, station_row.id == HomeRow.station_id)
        .outerjoin(ResidentRow, ResidentRow.home_id == HomeRow.id)
        .outerjoin(ContactRow, ContactRow.id == first_contact)
        .where(HomeRow.id.in_(set(home_ids)))
        .order_by(HomeRow.id, ResidentRow.id)
    )
    return [PlacedHousehold(*row) for row in await session.execute(query)]


async def home_ids(
    session: AsyncSession,
    *,
    home_id: str | None = None,
    station_id: str | None = None,
    under: str | None = None,
) -> list[str]:
    """Home ids, sorted: all of them, or one home, a station's, or those ``under`` a station
    or centre (its own homes and those of the stations it supervises)."""
    station_row = aliased(StationRow)
    query = (
        select(HomeRow.id)
        .outerjoin(station_row, station_row.id == HomeRow.station_id)
        .order_by(HomeRow.id)
    )
    if home_id is not None:
        query = query.where(HomeRow.id == home_id)
    if station_id is not None:
        query = query.where(HomeRow.station_id == station_id)
    if under is not None:
        query = query.where((station_row.centre_id == under) | (HomeRow.station_id == under))
    return list((await session.scalars(query)).all())

"""The device registry: which stations, homes, devices, residents and contacts exist.

The gateway is the only writer of these tables (DESIGN §1); alerting and the dashboard read
them. Every query on them lives here, so the CLI, the REST router and the gateway share one
idea of what "register a home" means. Writes are upserts: an import can be re-run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eldercare.clock import Clock, SimulatedClock
from eldercare.db.models import (
    ContactRow,
    DeviceRow,
    HomeRow,
    MqttCredentialRow,
    ResidentRow,
    StaffRow,
    StationRow,
)
from gateway.registry_api import registry_version, rows_in_parts
from gateway.specs import (
    ContactSpec,
    DeviceSpec,
    HomeSpec,
    RegistryDocument,
    ResidentSpec,
    StaffSpec,
    StationSpec,
)

T = TypeVar("T")

__all__ = [
    "APPLY_PART",
    "DeviceInfo",
    "DeviceRecord",
    "DeviceSpec",
    "HomeNotFound",
    "ImportSummary",
    "Registry",
    "RegistryChange",
    "RegistryConflict",
    "RegistrySnapshot",
    "drop_in_parts",
    "in_parts",
    "register_home",
]


class HomeNotFound(LookupError):
    """No such home (or device of it) in the registry."""


class RegistryConflict(ValueError):
    """The write would break a registry rule (unknown station, zigbee name taken…)."""


class DeviceInfo(NamedTuple):
    """What the gateway needs to know about a device at message time.

    A tuple, so that a registry read of plain tuples (``Registry.device_records``) compares
    equal to it: the gateway's refresh reads every device every 10 s, and 160 000 objects
    made for it cost ~0.2 s of CPU more than tuples and a 20-40 ms garbage collection of
    them (plain tuples of strings are soon left out of collections; issue 18).
    """

    home: str
    id: str
    kind: str
    room: str | None
    model: str | None
    heartbeat_s: int | None
    zigbee_name: str | None
    battery_changed_at: datetime | None


#: A device as read from the registry: ``DeviceInfo``'s fields, in its order.
DeviceRecord = tuple[str, str, str, str | None, str | None, int | None, str | None, datetime | None]
#: Devices compared or applied between two chances for the event loop to run other work
#: (1 000 a part measured no shorter holds at 10 000 homes: what is left is collections).
APPLY_PART = 5_000


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """How a new read of the registry differs from a snapshot, device by device.

    A device moved to another home is one gone and one come: the key is (home, device).
    """

    #: Devices that are new, or registered differently than in the snapshot (new version).
    came: list[DeviceInfo] = field(default_factory=list)
    #: The snapshot's versions of the changed devices among ``came``.
    replaced: list[DeviceInfo] = field(default_factory=list)
    #: The snapshot's devices that are no longer registered.
    gone: list[DeviceInfo] = field(default_factory=list)
    #: The read in the registry's order, unchanged devices as the snapshot's own objects: the
    #: next read is compared with it, and 160 000 devices are not held twice.
    rows: list[DeviceInfo] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.came or self.gone)


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    """An immutable copy of the registry, swapped whole on refresh (no locks on the hot path)."""

    devices: dict[tuple[str, str], DeviceInfo] = field(default_factory=dict)
    by_zigbee_name: dict[str, DeviceInfo] = field(default_factory=dict)
    #: What it was made of, in the registry's order (``changes`` compares a read with it).
    rows: list[DeviceInfo] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(cls, devices: Iterable[DeviceInfo]) -> RegistrySnapshot:
        devices = list(devices)
        return cls(
            {(d.home, d.id): d for d in devices},
            {d.zigbee_name: d for d in devices if d.zigbee_name},
            devices,
        )

    def get(self, home: str, device: str) -> DeviceInfo | None:
        return self.devices.get((home, device))

    async def changes(self, rows: Sequence[DeviceRecord], part: int = APPLY_PART) -> RegistryChange:
        """What ``rows`` (a new read, ``Registry.device_records``) changes, worked out ``part``
        devices at a time with the event loop let in between: the snapshot is rebuilt from
        the change alone (``patched``), since a rebuild from every row with the gateway's
        follow-up held its loop ~0.5 s at 10 000 homes (issue 18). Nothing changed is the
        common case, found by comparing the rows in order."""
        if await _same(rows, self.rows, part):
            return RegistryChange(rows=self.rows)
        change = RegistryChange()
        kept: set[int] = set()  # ids of the snapshot's devices still registered: plain ints,
        # which the garbage collector does not walk (160 000 (home, id) tuples it did)
        async for some in in_parts(rows, part):
            for row in some:
                before = self.devices.get((row[0], row[1]))
                if before is not None:
                    kept.add(id(before))
                if before == row:
                    change.rows.append(before)
                    continue
                came = DeviceInfo(*row)
                change.came.append(came)
                change.rows.append(came)
                if before is not None:
                    change.replaced.append(before)
        if len(kept) < len(self.devices):
            async for some in in_parts(list(self.devices.values()), part):
                change.gone.extend(d for d in some if id(d) not in kept)
        return change

    async def patched(self, change: RegistryChange, part: int = APPLY_PART) -> RegistrySnapshot:
        """This snapshot with ``change`` applied, built beside it ``part`` devices at a time
        (copy on write) and returned whole: the caller swaps it in one assignment, so a lookup
        meanwhile sees the snapshot before the change, never one half applied, and no
        registered device is ever missing."""
        devices: dict[tuple[str, str], DeviceInfo] = {}
        entries = iter(self.devices.items())  # safe across the yields: a snapshot never changes
        while copied := list(islice(entries, part)):  # one copy of 160 000 held it 10-25 ms
            devices.update(copied)
            await asyncio.sleep(0)
        by_zigbee_name = dict(self.by_zigbee_name)
        async for some in in_parts(change.gone + change.replaced, part):
            for left in some:
                del devices[(left.home, left.id)]  # a changed one is put back below
                if left.zigbee_name and by_zigbee_name.get(left.zigbee_name) is left:
                    del by_zigbee_name[left.zigbee_name]
        async for some in in_parts(change.came, part):
            for came in some:
                devices[(came.home, came.id)] = came
                if came.zigbee_name:
                    by_zigbee_name[came.zigbee_name] = came
        return RegistrySnapshot(devices, by_zigbee_name, change.rows)


async def in_parts(items: Sequence[T], part: int = APPLY_PART) -> AsyncIterator[Sequence[T]]:
    """``items``, ``part`` at a time, the event loop let in after each."""
    for start in range(0, len(items), part):
        yield items[start : start + part]
        await asyncio.sleep(0)


async def drop_in_parts(items: list[Any], part: int = APPLY_PART) -> None:
    """Empty ``items``, ``part`` at a time, the event loop let in after each: a registry read
    dropped at once freed 160 000 tuples and their strings in one piece (~20 ms)."""
    while items:
        del items[-part:]
        await asyncio.sleep(0)


async def _same(rows: Sequence[DeviceRecord], last: list[DeviceInfo], part: int) -> bool:
    """``rows == last``, compared in parts with the event loop free in between."""
    if len(rows) != len(last):
        return False
    for start in range(0, len(rows), part):
        if rows[start : start + part] != last[start : start + part]:
            return False
        await asyncio.sleep(0)
    return True


@dataclass(frozen=True, slots=True)
class ImportSummary:
    stations: int = 0
    homes: int = 0
    devices: int = 0


def _device_spec(row: DeviceRow) -> DeviceSpec:
    return DeviceSpec(
        row.id,
        row.kind,
        row.room,
        model=row.model,
        heartbeat_s=row.heartbeat_s,
        zigbee_name=row.zigbee_name,
        battery_changed_at=row.battery_changed_at,
    )


class Registry:
    """Reads and writes of the registry tables, one transaction per call."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    # Writes ----------------------------------------------------------------------------
    async def apply(self, document: RegistryDocument) -> ImportSummary:
        """Upsert every station and home of an import document in one transaction."""
        async with self._sessions.begin() as session:
            # Centres first, so a station may name a centre listed after it in the file.
            for station in sorted(document.stations, key=lambda spec: spec.kind != "centre"):
                await self._upsert_station(session, station)
            await session.flush()
            await self._upsert_homes(session, document.homes)
        return ImportSummary(
            stations=len(document.stations),
            homes=len(document.homes),
            devices=sum(len(home.devices) for home in document.homes),
        )

    async def upsert_home(self, spec: HomeSpec) -> bool:
        """Create or update a home; True if it was new."""
        async with self._sessions.begin() as session:
            return spec.id in await self._upsert_homes(session, [spec])

    async def upsert_device(self, home_id: str, spec: DeviceSpec) -> bool:
        """Create or update one device of an existing home; True if it was new."""
        async with self._sessions.begin() as session:
            if await session.get(HomeRow, home_id) is None:
                raise HomeNotFound(f"home {home_id} is not registered")
            return bool(await self._upsert_devices(session, [(home_id, spec)]))

    async def delete_home(self, home_id: str) -> None:
        async with self._sessions.begin() as session:
            home = await session.get(HomeRow, home_id)
            if home is None:
                raise HomeNotFound(f"home {home_id} is not registered")
            # Explicit deletes: SQLite only cascades with foreign keys on, and PostgreSQL
            # should not depend on how the connection was configured either.
            for table in (DeviceRow, ResidentRow, ContactRow, MqttCredentialRow):
                await session.execute(delete(table).where(table.home_id == home_id))
            await session.delete(home)

    async def delete_device(self, home_id: str, device_id: str) -> None:
        async with self._sessions.begin() as session:
            device = await session.get(DeviceRow, (home_id, device_id))
            if device is None:
                raise HomeNotFound(f"device {home_id}/{device_id} is not registered")
            await session.delete(device)

    async def battery_changed(self, home_id: str, device_id: str, at: datetime) -> None:
        """A technician put in a fresh battery: the replacement clock restarts."""
        async with self._sessions.begin() as session:
            device = await session.get(DeviceRow, (home_id, device_id))
            if device is None:
                raise HomeNotFound(f"device {home_id}/{device_id} is not registered")
            device.battery_changed_at = at

    async def _upsert_station(self, session: AsyncSession, spec: StationSpec) -> None:
        if spec.centre and await session.get(StationRow, spec.centre) is None:
            raise RegistryConflict(f"station {spec.id}: centre {spec.centre} is not registered")
        now = self.clock.now()
        station = await session.get(StationRow, spec.id)
        if station is None:
            station = StationRow(id=spec.id, created_at=now)
            session.add(station)
        station.name, station.kind, station.centre_id = spec.name, spec.kind, spec.centre
        station.phone = spec.phone
        for person in spec.staff:
            await self._upsert_staff(session, spec.id, person)

    async def _upsert_staff(self, session: AsyncSession, station_id: str, spec: StaffSpec) -> None:
        staff = await session.get(StaffRow, spec.id)
        if staff is None:
            staff = StaffRow(id=spec.id, created_at=self.clock.now())
            session.add(staff)
        staff.station_id, staff.name, staff.role = station_id, spec.name, spec.role
        staff.channels, staff.active = list(spec.channels), spec.active

    async def _upsert_homes(self, session: AsyncSession, specs: Sequence[HomeSpec]) -> set[str]:
        """Every home of ``specs`` with its devices and people; the ids of the new homes.

        A few queries and two batched flushes for the whole import: row by row (a lookup
        and a flush per device), 1 000 homes took 25 s.
        """
        stations = await _rows(session, StationRow.id, {s.station for s in specs if s.station})
        for spec in specs:
            if spec.station and spec.station not in stations:
                raise RegistryConflict(f"home {spec.id}: station {spec.station} is not registered")
        homes = await _rows(session, HomeRow.id, {spec.id for spec in specs})
        created = {spec.id for spec in specs} - set(homes)
        now = self.clock.now()
        for spec in specs:
            home = homes.get(spec.id)
            if home is None:
                home = homes[spec.id] = HomeRow(id=spec.id, created_at=now)
                session.add(home)
            home.name, home.station_id, home.address = spec.name, spec.station, spec.address
            home.access_notes, home.timezone = spec.access_notes, spec.timezone
        await session.flush()  # homes before their devices, people and contacts
        await self._upsert_devices(session, [(s.id, d) for s in specs for d in s.devices])
        # Core inserts (one executemany each): ORM objects with generated ids are inserted
        # one statement per row to read each id back.
        people = [spec for spec in specs if spec.residents is not None]
        await _delete_of_homes(session, ResidentRow, [spec.id for spec in people])
        residents = [
            dict(home_id=s.id, **r.model_dump()) for s in people for r in s.residents or ()
        ]
        if residents:
            await session.execute(insert(ResidentRow), residents)
        listed = [spec for spec in specs if spec.contacts is not None]
        await _delete_of_homes(session, ContactRow, [spec.id for spec in listed])
        contacts = [
            dict(home_id=s.id, position=position, **contact.model_dump())
            for s in listed
            for position, contact in enumerate(s.contacts or ())
        ]
        if contacts:
            await session.execute(insert(ContactRow), contacts)
        return created

    async def _upsert_devices(
        self, session: AsyncSession, specs: Sequence[tuple[str, DeviceSpec]]
    ) -> set[tuple[str, str]]:
        """Devices of registered homes, created or updated; the keys of the new ones.

        A zigbee name belongs to one device across all homes: checked against the database
        and against the devices written before in the same call.
        """
        devices = await _rows(session, DeviceRow.home_id, {home for home, _ in specs})
        owners = {
            row.zigbee_name: key
            for key, row in (
                await _rows(
                    session, DeviceRow.zigbee_name, {s.zigbee_name for _, s in specs} - {None}
                )
            ).items()
        }
        created: set[tuple[str, str]] = set()
        now = self.clock.now()
        for home_id, spec in specs:
            key = (home_id, spec.id)
            if spec.zigbee_name:
                owner = owners.get(spec.zigbee_name)
                if owner is not None and owner != key:
                    raise RegistryConflict(
                        f"zigbee name {spec.zigbee_name!r} already belongs to {owner[0]}/{owner[1]}"
                    )
            device = devices.get(key)
            if device is None:
                device = devices[key] = DeviceRow(home_id=home_id, id=spec.id, created_at=now)
                session.add(device)
                created.add(key)
            elif device.zigbee_name and owners.get(device.zigbee_name) == key:
                del owners[device.zigbee_name]  # renamed: the old name is free again
            if spec.zigbee_name:
                owners[spec.zigbee_name] = key
            device.kind, device.room, device.model = spec.kind, spec.room, spec.model
            device.heartbeat_s, device.zigbee_name = spec.heartbeat_s, spec.zigbee_name
            if spec.battery_changed_at is not None:
                device.battery_changed_at = spec.battery_changed_at
        await session.flush()
        return created

    # Reads -----------------------------------------------------------------------------
    async def list_homes(self, station: str | None = None) -> list[tuple[HomeRow, int]]:
        """Homes with their device counts, ordered by id."""
        query = (
            select(HomeRow, func.count(DeviceRow.id))
            .outerjoin(DeviceRow, DeviceRow.home_id == HomeRow.id)
            .group_by(HomeRow.id)
            .order_by(HomeRow.id)
        )
        if station is not None:
            query = query.where(HomeRow.station_id == station)
        async with self._sessions() as session:
            return [(home, count) for home, count in (await session.execute(query)).all()]

    async def get_home(self, home_id: str) -> HomeSpec:
        """The home as a spec: exactly what an export/import round trip needs."""
        async with self._sessions() as session:
            home = await session.get(HomeRow, home_id)
            if home is None:
                raise HomeNotFound(f"home {home_id} is not registered")
            devices = await session.scalars(
                select(DeviceRow).where(DeviceRow.home_id == home_id).order_by(DeviceRow.id)
            )
            residents = await session.scalars(
                select(ResidentRow).where(ResidentRow.home_id == home_id).order_by(ResidentRow.id)
            )
            contacts = await session.scalars(
                select(ContactRow)
                .where(ContactRow.home_id == home_id)
                .order_by(ContactRow.position)
            )
            return HomeSpec(
                id=home.id,
                name=home.name,
                station=home.station_id,
                address=home.address,
                access_notes=home.access_notes,
                timezone=home.timezone,
                devices=[_device_spec(row) for row in devices],
                residents=[
                    ResidentSpec(
                        name=r.name, birth_year=r.birth_year, care_notes=r.care_notes, phone=r.phone
                    )
                    for r in residents
                ],
                contacts=[
                    ContactSpec(
                        name=c.name,
                        relation=c.relation,
                        phone=c.phone,
                        language=c.language,
                        channels=c.channels,
                    )
                    for c in contacts
                ],
            )

    async def list_stations(self) -> list[StationRow]:
        async with self._sessions() as session:
            return list(await session.scalars(select(StationRow).order_by(StationRow.id)))

    async def device_infos(self) -> list[DeviceInfo]:
        """Every device as the gateway sees it (``device_records``)."""
        return await self._devices(DeviceInfo)

    async def device_records(self) -> list[DeviceRecord]:
        """Every device as plain tuples, ordered, so two reads compare equal when nothing
        changed: what the gateway's refresh compares with its snapshot (``DeviceInfo``)."""
        return await self._devices(_record)

    async def _devices(self, make: Callable[..., T]) -> list[T]:
        """Plain columns, no ORM objects: 16 000 devices took over 2 s of the gateway's event
        loop as ORM rows on this machine."""
        query = select(
            DeviceRow.home_id,
            DeviceRow.id,
            DeviceRow.kind,
            DeviceRow.room,
            DeviceRow.model,
            DeviceRow.heartbeat_s,
            DeviceRow.zigbee_name,
            DeviceRow.battery_changed_at,
        ).order_by(DeviceRow.home_id, DeviceRow.id)
        async with self.engine.connect() as connection:
            # In parts (``rows_in_parts``): in one go 160 000 devices (10 000 homes) held the
            # event loop for a few tenths of a second every refresh (issue 18).
            return await rows_in_parts(await connection.stream(query), make)

    async def snapshot(self) -> RegistrySnapshot:
        """Every device, for the gateway's per-message lookups."""
        return RegistrySnapshot.of(await self.device_infos())

    async def version(self) -> int | None:
        """The registry's version (``registry_api.registry_version``): one row, what the
        gateway's refresh reads every interval instead of every device."""
        async with self._sessions() as session:
            return await registry_version(session)

    async def versioned_snapshot(self) -> tuple[int | None, RegistrySnapshot]:
        """The version, then every device (in that order: the snapshot holds at least what
        the version says), for a gateway's start."""
        version = await self.version()
        return version, await self.snapshot()


def _record(*columns: Any) -> DeviceRecord:
    return cast(DeviceRecord, columns)


#: Keys per ``IN (…)`` query: far below SQLite's and PostgreSQL's bound-parameter limits.
IN_CHUNK = 500


async def _rows(session: AsyncSession, column: Any, values: Iterable[Any]) -> dict[Any, Any]:
    """The rows of ``column``'s table whose ``column`` is one of ``values``, by primary key
    (a tuple for a composite key)."""
    model = column.class_
    key_columns = [c.key for c in model.__mapper__.primary_key]
    wanted, found = list(values), {}
    for start in range(0, len(wanted), IN_CHUNK):
        query = select(model).where(column.in_(wanted[start : start + IN_CHUNK]))
        for row in await session.scalars(query):
            keys = tuple(getattr(row, name) for name in key_columns)
            found[keys[0] if len(keys) == 1 else keys] = row
    return found


async def _delete_of_homes(session: AsyncSession, model: Any, home_ids: Sequence[str]) -> None:
    for start in range(0, len(home_ids), IN_CHUNK):
        chunk = home_ids[start : start + IN_CHUNK]
        await session.execute(delete(model).where(model.home_id.in_(chunk)))


async def register_home(
    engine: AsyncEngine,
    home_id: str,
    devices: Iterable[DeviceSpec],
    *,
    now: datetime,
    name: str = "",
    station_id: str | None = None,
) -> None:
    """Create a home with its devices, or add the devices to an existing home.

    The simulator's and tests' shortcut. Unlike an import, which declares the whole home,
    this leaves an existing home's station, address and people as they are: a simulated
    home that staff placed in a station must not fall out of that station's view.
    """
    registry = Registry(engine, SimulatedClock(now))
    async with AsyncSession(engine) as session:
        exists = await session.get(HomeRow, home_id) is not None
    if not exists:
        await registry.upsert_home(
            HomeSpec(id=home_id, name=name, station=station_id, devices=list(devices))
        )
        return
    for device in devices:
        await registry.upsert_device(home_id, device)

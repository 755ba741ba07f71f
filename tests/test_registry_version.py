"""The registry's version: while nothing changed, a registry reader costs one tiny query.

Every 10 s the gateway, and every minute the detector, read every registered device, ~0.28 s
of CPU a time at 10 000 homes even when nothing had changed (issue 18). A one-row counter,
bumped by a database trigger in the same transaction as every write of homes, devices and
home modes, tells them when to read. What must hold, on SQLite and on PostgreSQL: every
write moves the version, whoever makes it; an unchanged registry is not read; a change, a
removal included, is applied at the next interval; a write that lands while the devices are
being read is never lost (the version is read before the rows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, event, insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dashboards.homes import set_mode
from dashboards.schemas import HomeModeName, HomeModeRequest
from detector.activity import registry as detector_registry
from detector.activity.registry import RegistryView, SharedRegistry
from detector.activity.rule import InactivityRule
from detector.service import REGISTRY_REFRESH_S as DETECTOR_REFRESH_S
from detector.service import Detector, registry_loop
from eldercare.clock import SimulatedClock
from eldercare.db.models import (
    REGISTRY_VERSIONED_TABLES,
    DeviceRow,
    HomeModeRow,
    HomeRow,
    RegistryVersionRow,
)
from eldercare.settings import Settings
from gateway import registry_api
from gateway.registry import (
    DeviceRecord,
    DeviceSpec,
    HomeSpec,
    Registry,
    RegistryDocument,
    register_home,
)
from gateway.service import REGISTRY_REFRESH_S, Gateway
from simulator.layout import STANDARD_DEVICES, WALL_BUTTON
from tests.gateway_support import START, settled

BUTTON = DeviceSpec("btn-2", "call_button", "bedroom")


async def version(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        found = await registry_api.registry_version(session)
    assert found is not None
    return found


async def test_every_registry_write_moves_the_version(engine: AsyncEngine) -> None:
    """The paths the CLI, the REST API (both through ``Registry``), the simulator and the
    dashboard write the registry by."""
    registry = Registry(engine, SimulatedClock(START))
    away = HomeModeRequest(mode=HomeModeName.AWAY, until=START + timedelta(days=3))

    async def mode_set() -> None:
        async with AsyncSession(engine) as session, session.begin():
            await set_mode(session, "h-b", away, "staff", START)

    writes: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("import", lambda: registry.apply(RegistryDocument(homes=[HomeSpec(id="h-a")]))),
        ("home added", lambda: registry.upsert_home(HomeSpec(id="h-b"))),
        ("device added", lambda: registry.upsert_device("h-b", BUTTON)),
        ("device changed", lambda: registry.upsert_device("h-b", replace(BUTTON, room="hall"))),
        ("battery changed", lambda: registry.battery_changed("h-b", BUTTON.id, START)),
        ("device removed", lambda: registry.delete_device("h-b", BUTTON.id)),
        ("simulator's home", lambda: register_home(engine, "h-c", [BUTTON], now=START)),
        ("home mode set (dashboard)", mode_set),
        ("home renamed", lambda: registry.upsert_home(HomeSpec(id="h-b", name="renamed"))),
        ("home removed", lambda: registry.delete_home("h-b")),
    ]
    for name, write in writes:
        before = await version(engine)
        await write()
        assert await version(engine) > before, f"{name} did not move the registry's version"


async def test_any_write_of_a_versioned_table_moves_the_version_whoever_makes_it(
    engine: AsyncEngine,
) -> None:
    """The bump is the database's (a trigger per table), not the code's: a write path added
    later, a migration or a person with psql cannot forget it."""
    rows = {
        HomeRow: (
            dict(
                id="h-raw", name="", address="", access_notes="", timezone="UTC", created_at=START
            ),
            dict(name="renamed"),
        ),
        DeviceRow: (
            dict(home_id="h-raw", id="pir", kind="motion", created_at=START),
            dict(room="hall"),
        ),
        HomeModeRow: (
            dict(home_id="h-raw", mode="away", note="", set_by="psql", set_at=START),
            dict(mode="home"),
        ),
    }
    assert {model.__tablename__ for model in rows} == set(REGISTRY_VERSIONED_TABLES)
    statements = [insert(model).values(**new) for model, (new, _) in rows.items()]
    statements += [update(model).values(**changed) for model, (_, changed) in rows.items()]
    statements += [delete(model) for model in reversed(rows)]
    if engine.dialect.name == "postgresql":  # SQLite has no TRUNCATE (homes has references)
        statements += [text("TRUNCATE devices"), text("TRUNCATE home_modes")]
    for statement in statements:
        before = await version(engine)
        async with engine.begin() as connection:
            await connection.execute(statement)
        assert await version(engine) > before, str(statement)


async def test_concurrent_registry_writers_queue_on_the_version_and_all_commit(
    engine: AsyncEngine,
) -> None:
    """On PostgreSQL each statement takes the counter's row lock first (a BEFORE trigger),
    so writers of the same and of different homes wait for each other, none deadlocks."""
    registry = Registry(engine, SimulatedClock(START))
    await registry.upsert_home(HomeSpec(id="h-a", devices=list(STANDARD_DEVICES)))
    before = await version(engine)
    buttons = [DeviceSpec(f"btn-{n}", "call_button", "hall") for n in range(4)]
    await asyncio.gather(
        *(registry.upsert_device("h-a", button) for button in buttons),
        *(registry.upsert_home(HomeSpec(id=f"h-{n}", devices=[BUTTON])) for n in range(4)),
        registry.delete_device("h-a", WALL_BUTTON),
    )
    assert await version(engine) >= before + 9
    rows = {(home, device) for home, device, *_ in await registry.device_records()}
    assert {("h-a", b.id) for b in buttons} | {(f"h-{n}", BUTTON.id) for n in range(4)} <= rows
    assert ("h-a", WALL_BUTTON) not in rows


async def test_a_write_rolled_back_leaves_the_version(engine: AsyncEngine) -> None:
    before = await version(engine)
    with pytest.raises(RuntimeError):
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(update(HomeRow).values(name="x"))
            raise RuntimeError("rolled back")
    assert await version(engine) == before


class Spied:
    """The gateway's registry reads, counted: version polls, device reads, SQL statements."""

    def __init__(self, engine: AsyncEngine, registry: Registry) -> None:
        self.polls: list[int | None] = []
        self.reads: list[int] = []
        self.statements: list[str] = []
        self.after_read: Callable[[], Awaitable[object]] | None = None
        poll, read = registry.version, registry.device_records

        async def polled() -> int | None:
            self.polls.append(found := await poll())
            return found

        async def counted() -> list[DeviceRecord]:
            rows = await read()
            self.reads.append(len(rows))
            if self.after_read is not None:
                write, self.after_read = self.after_read, None
                await write()
            return rows

        registry.version = polled  # type: ignore[method-assign]
        registry.device_records = counted  # type: ignore[method-assign]
        event.listen(engine.sync_engine, "before_cursor_execute", self._executed)

    def _executed(self, _connection: object, _cursor: object, statement: str, *_: object) -> None:
        self.statements.append(statement)


@pytest.fixture
def refreshing() -> Iterator[list[asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()


async def test_the_gateway_reads_the_devices_only_when_the_version_moved(
    engine: AsyncEngine, refreshing: list[asyncio.Task[None]]
) -> None:
    clock = SimulatedClock(START)
    registry = Registry(engine, clock)
    for home in ("h-a", "h-b"):
        await registry.upsert_home(HomeSpec(id=home, devices=list(STANDARD_DEVICES)))
    seen, snapshot = await registry.versioned_snapshot()
    gateway = Gateway(Settings(), clock)
    gateway.set_registry(snapshot)
    spied = Spied(engine, registry)
    refreshing.append(asyncio.create_task(gateway.refresh_registry(registry, None, seen)))

    async def interval() -> None:
        polls = len(spied.polls)
        await clock.advance(REGISTRY_REFRESH_S)
        await settled(lambda: len(spied.polls) > polls)
        await asyncio.sleep(0.05)  # a read, if any, and its parts

    for _ in range(3):
        await interval()
    assert spied.reads == [], "an unchanged registry is not read"
    assert gateway.registry is snapshot
    assert len(spied.statements) == 3
    assert all("registry_version" in statement for statement in spied.statements)

    await registry.upsert_device("h-a", BUTTON)
    await interval()
    assert len(spied.reads) == 1 and gateway.registry.get("h-a", BUTTON.id) is not None
    await interval()
    assert len(spied.reads) == 1, "read once per change"

    await registry.delete_device("h-a", BUTTON.id)
    await interval()
    assert gateway.registry.get("h-a", BUTTON.id) is None
    await registry.delete_home("h-b")
    await interval()
    assert gateway.registry.get("h-b", WALL_BUTTON) is None
    assert gateway.registry.get("h-a", WALL_BUTTON) is not None
    assert len(spied.reads) == 3


async def test_a_write_while_the_devices_are_read_is_seen_at_the_next_interval(
    engine: AsyncEngine, refreshing: list[asyncio.Task[None]]
) -> None:
    """Fails if the version is read after the rows: it would count a write the rows lack."""
    clock = SimulatedClock(START)
    registry = Registry(engine, clock)
    await registry.upsert_home(HomeSpec(id="h-a", devices=list(STANDARD_DEVICES)))
    gateway = Gateway(Settings(), clock)
    spied = Spied(engine, registry)
    spied.after_read = lambda: registry.upsert_device("h-a", BUTTON)
    # No version yet (as after a restart): the first interval reads every device.
    refreshing.append(asyncio.create_task(gateway.refresh_registry(registry)))
    await clock.advance(REGISTRY_REFRESH_S)
    await settled(lambda: gateway.registry is not None)
    assert gateway.registry.get("h-a", WALL_BUTTON) is not None
    assert gateway.registry.get("h-a", BUTTON.id) is None  # written after the rows were read
    await clock.advance(REGISTRY_REFRESH_S)
    await settled(lambda: len(spied.reads) == 2)
    await settled(lambda: gateway.registry.get("h-a", BUTTON.id) is not None)


async def test_the_detector_reads_the_registry_only_when_the_version_moved(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One instance (no shards): the minute's check reads the version; an unchanged view is
    not applied again, but its home modes are (they end with the clock)."""
    clock = SimulatedClock(START)
    registry = Registry(engine, clock)
    await registry.upsert_home(HomeSpec(id="h-a", devices=list(STANDARD_DEVICES)))
    loads: list[RegistryView] = []
    load = detector_registry.load_registry

    async def counted(*args: object) -> RegistryView:
        loads.append(view := await load(*args))  # type: ignore[arg-type]
        return view

    monkeypatch.setattr(detector_registry, "load_registry", counted)
    rule = InactivityRule()
    detector = Detector(Settings(data_dir=tmp_path), clock, rules=[rule])
    devices_set: list[tuple[str, str]] = []
    modes_followed: list[str] = []
    set_device, follow_away = rule.directory.set, rule.follow_away
    rule.directory.set = lambda home, device, info: (  # type: ignore[method-assign]
        devices_set.append((home, device)),
        set_device(home, device, info),
    )[-1]
    rule.follow_away = lambda home, *rest: (  # type: ignore[method-assign]
        modes_followed.append(home),
        follow_away(home, *rest),
    )[-1]
    shared = SharedRegistry(engine, clock, DETECTOR_REFRESH_S)
    task = asyncio.create_task(registry_loop(Settings(), shared.get, detector, clock))
    try:
        await settled(lambda: len(devices_set) == len(STANDARD_DEVICES))
        await clock.advance(DETECTOR_REFRESH_S)
        await asyncio.sleep(0.05)
        assert len(loads) == 1 and len(devices_set) == len(STANDARD_DEVICES)
        async with AsyncSession(engine) as session, session.begin():
            away = HomeModeRequest(mode=HomeModeName.HOSPITAL)
            await set_mode(session, "h-a", away, "staff", clock.now())
        await clock.advance(DETECTOR_REFRESH_S)
        await settled(lambda: "h-a" in modes_followed)
        assert len(loads) == 2 and [row.mode for row in loads[-1].modes] == ["hospital"]
        assert len(devices_set) == 2 * len(STANDARD_DEVICES)
        followed = len(modes_followed)
        await clock.advance(DETECTOR_REFRESH_S)
        await settled(lambda: len(modes_followed) > followed)  # the mode, again
        assert len(loads) == 2 and len(devices_set) == 2 * len(STANDARD_DEVICES)
    finally:
        task.cancel()


async def test_a_missing_version_row_means_read_every_time(engine: AsyncEngine) -> None:
    """No row, no bump: a reader must not take ``None`` for "unchanged"."""
    async with engine.begin() as connection:
        await connection.execute(delete(RegistryVersionRow))
    assert await Registry(engine, SimulatedClock(START)).version() is None
    clock = SimulatedClock(START)
    shared = SharedRegistry(engine, clock, 60)
    first = await shared.get()
    clock.set(START + timedelta(seconds=60))
    assert await shared.get() is not first

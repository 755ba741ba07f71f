"""Tell the inactivity rule what the database knows: device kinds and rooms, home time
zones, and the staff's "away / in hospital until …" home mode.

Without it the rule infers meaning from device ids ("door-front", "pir-living") and assumes
the default time zone; with it, "kitchen by 10:00" means 10:00 in the home's own zone, and
a flat whose resident is in hospital raises no inactivity alarm at night.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from detector.activity.rule import InactivityRule
from detector.activity.sensors import classify
from eldercare.clock import Clock
from eldercare.db.models import HomeModeRow
from gateway import registry_api
from gateway.registry_api import DevicePlace, Shards

#: "Away" without an end date: until staff set the home back.
UNTIL_FURTHER_NOTICE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RegistryView:
    """What the rule needs from the registry, read in one session."""

    timezones: list[tuple[str, str]]
    devices: list[DevicePlace]
    modes: list[HomeModeRow]


async def load_registry(engine: AsyncEngine, shards: Shards | None = None) -> RegistryView:
    """Every home's registry entries, or only the given shards' homes'."""
    async with AsyncSession(engine) as session:
        return RegistryView(
            list((await registry_api.timezones(session, shards)).items()),
            list(await registry_api.all_devices(session, shards)),
            list((await session.scalars(select(HomeModeRow))).all()),
        )


#: Registry entries applied per part: a few µs each, so a few ms a part.
APPLY_PART = 1_000


def apply_registry(
    view: RegistryView,
    rule: InactivityRule,
    now: datetime,
    keep: Callable[[str], bool] = lambda home: True,
) -> int:
    """Load every registered device into the rule's directory and every home's mode into
    the rule's holiday mode; returns how many devices. ``keep`` picks the homes (a replica's
    shard): a detector serving one shard holds nothing of the others'."""
    return sum(apply_in_parts(view, rule, now, keep))


async def apply_registry_in_parts(
    view: RegistryView,
    rule: InactivityRule,
    now: datetime,
    keep: Callable[[str], bool] = lambda home: True,
    *,
    modes_only: bool = False,
) -> int:
    """``apply_registry`` as the service runs it, the loop serving messages between parts:
    at 10 000 homes (160 000 devices) in one piece it held the detector's event loop for
    0.4 s every minute, 1.1 s the first time (issue 18). ``modes_only``: the rule has had
    this very view already, so only the home modes, which end with the clock, are applied
    again."""
    applied = 0
    for devices in apply_in_parts(view, rule, now, keep, modes_only=modes_only):
        applied += devices
        await asyncio.sleep(0)
    return applied


def apply_in_parts(
    view: RegistryView,
    rule: InactivityRule,
    now: datetime,
    keep: Callable[[str], bool],
    *,
    modes_only: bool = False,
) -> Iterator[int]:
    """``apply_registry``, ``APPLY_PART`` entries a part; after each, the number of devices
    it applied. Each home's mode, zone and each device is applied whole in one part."""
    away = {
        row.home_id: (row.until or UNTIL_FURTHER_NOTICE, f"{row.mode} {row.note}".strip())
        for row in view.modes
        if keep(row.home_id) and row.in_force(now)
    }
    homes = list(set(rule.homes) | set(away))
    for start in range(0, len(homes), APPLY_PART):
        for home in homes[start : start + APPLY_PART]:
            until, reason = away.get(home, (None, ""))
            rule.follow_away(home, until, reason, now)
        yield 0
    if modes_only:
        return
    for start in range(0, len(view.timezones), APPLY_PART):
        for home, timezone in view.timezones[start : start + APPLY_PART]:
            if keep(home):
                rule.set_timezone(home, timezone)
        yield 0
    for start in range(0, len(view.devices), APPLY_PART):
        applied = 0
        for home, device, kind, room in view.devices[start : start + APPLY_PART]:
            if not keep(home):
                continue
            contact = "door" in (kind or "").lower() or "contact" in (kind or "").lower()
            rule.directory.set(home, device, classify(device, kind, room, contact=contact))
            applied += 1
        yield applied


async def sync_from_registry(engine: AsyncEngine, rule: InactivityRule, now: datetime) -> int:
    """Read the registry and apply it to the rule (see ``apply_registry``)."""
    return apply_registry(await load_registry(engine), rule, now)


class SharedRegistry:
    """The registry as an instance's inactivity rules read it: one read for every shard the
    instance serves, instead of one per shard, and of those shards' homes only
    (``shard_count`` None: one instance, every home); and no read at all while the
    registry's version stays (``registry_api.registry_version``): at 10 000 homes with
    nothing changed, every device read each minute cost the detector ~1 s of CPU and applied
    again ~0.75 s (``registry_loop``; issue 18, ``benchmarks/registry_change.py``). Each
    shard's refresh gets the view checked at most ``max_age_s`` (clock) ago; a check reads
    the version, and the rows only if it moved or the shard was not read (the version first:
    a write between the two is in the rows or moves it again)."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        max_age_s: float,
        shard_count: int | None = None,
        owned: Callable[[], Collection[int]] = frozenset,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_age = timedelta(seconds=max_age_s)
        self._shard_count = shard_count
        self._owned = owned
        self._view: RegistryView | None = None
        self._read: Shards | None = None
        self._version: int | None = None
        self._checked_at = datetime.min.replace(tzinfo=UTC)
        self._reading = asyncio.Lock()

    async def get(self, shard: int | None = None) -> RegistryView:
        async with self._reading:  # shards starting together share one read
            now = self._clock.now()
            fresh = now - self._checked_at < self._max_age
            if self._view is not None and self._covers(shard) and fresh:
                return self._view
            async with AsyncSession(self._engine) as session:
                version = await registry_api.registry_version(session)
            moved = version is None or version != self._version
            if self._view is None or moved or not self._covers(shard):
                if self._shard_count is not None:
                    wanted = {*self._owned(), *([] if shard is None else [shard])}
                    self._read = Shards(self._shard_count, frozenset(wanted))
                self._view = await load_registry(self._engine, self._read)
                self._version = version
            self._checked_at = now
            return self._view

    def _covers(self, shard: int | None) -> bool:
        """The view read holds ``shard``'s homes (every home without shards)."""
        return self._shard_count is None or (self._read is not None and shard in self._read.owned)

"""Per-home detector state, kept so a restart loses no timer and repeats no alert.

Rules that keep state implement ``snapshot() -> bytes`` and ``restore(bytes)``; one JSON
object maps rule name to its snapshot (``pack``/``unpack``). The running service packs with
``pack_in_parts``: a rule whose snapshot takes long with many homes (inactivity: about a
second at 10 000) writes it in parts, the event loop serving messages in between, and the
whole is still the state of one instant. It is written at intervals,
right after any alert, and on shutdown: to a local file (``StateFile``, atomically: temp
file + rename) when one instance runs, or per shard to the database (``ShardCheckpoints``)
when several do, so whichever instance takes a shard over restores its state.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Awaitable, Callable, Generator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from eldercare.db import insert_new
from eldercare.db.models import DetectorCheckpointRow, ShardLeaseRow
from eldercare.logs import get_logger

log = get_logger("detector.checkpoint")
T = TypeVar("T")


@runtime_checkable
class Checkpointable(Protocol):
    name: str

    def snapshot(self) -> bytes: ...

    def restore(self, data: bytes) -> None: ...


@runtime_checkable
class SnapshotsInParts(Protocol):
    """A stateful rule that can write its snapshot a part per ``next()``: the state of the
    instant of the first ``next()``, whatever the rule handles between parts; the generator
    returns the bytes ``snapshot()`` would have given then."""

    name: str

    def snapshot_in_parts(self) -> Generator[None, None, bytes]: ...


#: The shortest wait between two ticks, so a deadline just past cannot spin the loop.
MIN_TICK_S = 0.2


def must_save_now(rules: Sequence[object]) -> bool:
    """True while a rule runs a timer shorter than the checkpoint interval (a fall's 15 s
    confirmation window): saved on every 10 s tick then, a crash after the first tick of the
    window does not lose it (only one in the seconds before that tick can)."""
    return any(getattr(rule, "short_timers_open", False) for rule in rules)


def urgent_saves(rules: Sequence[object]) -> int:
    """How many changes the rules have asked to be saved at once so far (a fall suspicion
    opened, an impact's provisional suspicion): when a message makes one, the detector saves
    before the message is acknowledged, so a crash before the next tick cannot lose it (a
    fall suspicion's only record is this state until it is confirmed)."""
    return sum(getattr(rule, "urgent_saves", 0) for rule in rules)


def one_at_a_time(save: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """``save`` with its calls taken in turn: the tick loop and a message that opened a short
    timer may both save, and a snapshot written in parts admits one writer at a time."""
    lock = asyncio.Lock()

    async def in_turn() -> T:
        async with lock:
            return await save()

    return in_turn


def seconds_to_next_tick(rules: Sequence[object], now: datetime, tick_s: float) -> float:
    """The regular tick, or sooner when a rule has a deadline before it (a fall's confirmation
    window); never a busy loop."""
    deadlines = [
        deadline
        for rule in rules
        if (next_deadline := getattr(rule, "next_deadline", None)) is not None
        and (deadline := next_deadline()) is not None
    ]
    if not deadlines:
        return tick_s
    return min(tick_s, max(MIN_TICK_S, (min(deadlines) - now).total_seconds()))


def pack(rules: Sequence[object]) -> bytes:
    """Every stateful rule's snapshot, by rule name."""
    blobs = {
        rule.name: base64.b64encode(rule.snapshot()).decode()
        for rule in rules
        if isinstance(rule, Checkpointable)
    }
    return json.dumps(blobs).encode()


async def pack_in_parts(rules: Sequence[object]) -> bytes:
    """``pack(rules)``, with the long snapshots written in parts and the loop free between
    them. Every rule's snapshot begins in one synchronous stretch, so the checkpoint holds
    the state of one instant, the same for every rule (a message is in all of it or in none)."""
    snapshots: dict[str, bytes] = {}
    running: dict[str, Generator[None, None, bytes]] = {}
    try:
        for rule in rules:
            if isinstance(rule, SnapshotsInParts):
                running[rule.name] = rule.snapshot_in_parts()
                _step(running, rule.name, snapshots)
            elif isinstance(rule, Checkpointable):
                snapshots[rule.name] = rule.snapshot()
        while running:
            await asyncio.sleep(0)
            for name in list(running):
                _step(running, name, snapshots)
    finally:
        for parts in running.values():  # cancelled: the rules stop keeping old homes
            parts.close()
    blobs = {
        rule.name: base64.b64encode(snapshots[rule.name]).decode()
        for rule in rules
        if isinstance(rule, Checkpointable)
    }
    return json.dumps(blobs).encode()


def _step(
    running: dict[str, Generator[None, None, bytes]], name: str, done: dict[str, bytes]
) -> None:
    """One more part of a rule's snapshot; finished, it moves from ``running`` to ``done``."""
    try:
        next(running[name])
    except StopIteration as finished:
        done[name] = finished.value
        del running[name]


def unpack(rules: Sequence[object], data: bytes) -> list[str]:
    """Restore every rule found in ``data``; the names found (none if it is unreadable)."""
    try:
        blobs = json.loads(data)
    except ValueError:
        return []
    for rule in rules:
        if isinstance(rule, Checkpointable) and rule.name in blobs:
            rule.restore(base64.b64decode(blobs[rule.name]))
    return sorted(blobs)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, rules: Sequence[object]) -> None:
        self.write(pack(rules))

    async def save_in_parts(self, rules: Sequence[object]) -> None:
        """``save``, the loop serving between parts (``pack_in_parts``). The file itself is
        written on the loop (1.3 MB at 10 000 homes: milliseconds), so that the shutdown's
        last ``save`` can never race a write still running in a thread."""
        self.write(await pack_in_parts(rules))

    def write(self, state: bytes) -> None:
        """Atomically: a crash mid-write leaves the previous checkpoint in place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(state)
        os.replace(temporary, self.path)

    def load(self, rules: Sequence[object]) -> bool:
        """Restore every rule found in the file; False if there is no checkpoint yet."""
        if not self.path.exists():
            return False
        found = unpack(rules, self.path.read_bytes())
        if not found:
            log.error("checkpoint_unreadable", path=str(self.path))
            return False
        log.info("checkpoint_restored", path=str(self.path), rules=found)
        return True


@runtime_checkable
class Partitionable(Protocol):
    """A stateful rule whose state can be cut down to some homes (a shard's)."""

    def retain(self, keep: Callable[[str], bool]) -> None: ...


class ShardCheckpoints:
    """Detector state per shard in the database (``detector_checkpoints``).

    A save goes through only while this instance's name is on the shard's lease (checked in
    the same transaction, the lease row locked on PostgreSQL): an instance that stalled and
    lost the shard cannot overwrite what the new owner saved since.
    """

    def __init__(self, engine: AsyncEngine, owner: str, *, scope: str = "detector") -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._engine = engine
        self.owner = owner
        self.scope = scope

    async def load(self, shard: int, rules: Sequence[object]) -> bool:
        """Restore the shard's last saved state into ``rules``; False if there is none."""
        async with self._sessions() as session:
            row = await session.get(DetectorCheckpointRow, shard)
        if row is None:
            return False
        found = unpack(rules, row.state)
        log.info(
            "checkpoint_restored",
            shard=shard,
            saved_by=row.owner,
            saved_at=row.saved_at.isoformat(),
            rules=found,
        )
        return bool(found)

    async def import_once(self, shard: int, rules: Sequence[object], now: datetime) -> bool:
        """Store the shard's state unless it has some already (no lease needed: it only
        fills an empty row); True if stored."""
        row = {"shard": shard, "state": pack(rules), "owner": self.owner, "saved_at": now}
        async with self._sessions.begin() as session:
            stored = await session.execute(insert_new(self._engine, DetectorCheckpointRow, [row]))
        return bool(stored.rowcount == 1)  # type: ignore[attr-defined]

    async def save(self, shard: int, rules: Sequence[object], now: datetime) -> bool:
        """Save the shard's state; False (nothing written) if the shard is not ours."""
        state = await pack_in_parts(rules)
        async with self._sessions.begin() as session:
            lease = await session.scalar(
                select(ShardLeaseRow.shard)
                .where(
                    ShardLeaseRow.scope == self.scope,
                    ShardLeaseRow.shard == shard,
                    ShardLeaseRow.owner == self.owner,
                )
                .with_for_update()
            )
            if lease is None:
                log.warning("checkpoint_refused_not_owner", shard=shard, owner=self.owner)
                return False
            saved = await session.execute(
                update(DetectorCheckpointRow)
                .where(DetectorCheckpointRow.shard == shard)
                .values(state=state, owner=self.owner, saved_at=now)
            )
            if saved.rowcount == 0:  # type: ignore[attr-defined]
                session.add(
                    DetectorCheckpointRow(shard=shard, state=state, owner=self.owner, saved_at=now)
                )
        return True

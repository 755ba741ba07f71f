"""Shards owned through leases in the database we already run, not a home-made cluster.

Several instances of a service (``scope``: ``detector``, ``alerting``) share its shards.
Each instance, every third of the lease's life:

1. renews its membership row (``lease_members``), so the others know how many are alive;
2. renews the shards it owns (``UPDATE … WHERE owner = me``); a shard whose row names
   someone else now was taken over while we stalled, and is *lost*: stop it at once;
3. takes free shards (never taken, released, or lapsed because their owner died) up to its
   fair share ``ceil(shards / live instances)``, each with one conditional UPDATE
   ``WHERE expires_at <= now``: on PostgreSQL the row lock makes the second of two racing
   instances re-check the condition and miss, SQLite serialises writers; either way one
   instance wins;
4. hands back what it holds beyond its share (a new instance joined), after the caller has
   stopped those shards' work and saved their state.

The time is the service's ``Clock``, so every instance must share one time source (NTP);
a skew of a few seconds only shortens or lengthens a takeover by as much. A paused instance
(long GC, stopped VM) may still work a shard for up to one renewal interval after another
took it; what guards the result is downstream: the MQTT session takeover (same client id)
cuts the old connection, and checkpoints are written only by the lease's current owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eldercare.clock import Clock
from eldercare.db import insert_new
from eldercare.db.models import LeaseMemberRow, ShardLeaseRow
from eldercare.failures import is_transient
from eldercare.logs import get_logger

log = get_logger("shard_leases")

#: "Never taken" and "released": any live instance may take the row at once.
FREE = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Round:
    """What one renewal round changed for the caller to act on."""

    acquired: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    surplus: list[int] = field(default_factory=list)


class ShardLeases:
    """One instance's leases on the shards of one scope."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        scope: str,
        owner: str,
        shard_count: int,
        ttl: timedelta,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._engine = engine
        self.clock = clock
        self.scope = scope
        self.owner = owner
        self.shard_count = shard_count
        self.ttl = ttl
        self.owned: set[int] = set()
        self._rows_ready = False

    @property
    def renew_every(self) -> timedelta:
        """A third of the lease: two renewals may fail before it lapses."""
        return self.ttl / 3

    async def round(self) -> Round:
        """Renew, take a fair share, say what changed (see the module docstring)."""
        now = self.clock.now()
        until = now + self.ttl
        result = Round()
        async with self._sessions.begin() as session:
            if not self._rows_ready:
                await self._ensure_rows(session)
            await self._renew_membership(session, now, until)
            await session.execute(
                update(ShardLeaseRow)
                .where(ShardLeaseRow.scope == self.scope, ShardLeaseRow.owner == self.owner)
                .values(expires_at=until)
            )
            held = set(
                await session.scalars(
                    select(ShardLeaseRow.shard).where(
                        ShardLeaseRow.scope == self.scope, ShardLeaseRow.owner == self.owner
                    )
                )
            )
            live = await session.scalar(
                select(func.count())
                .select_from(LeaseMemberRow)
                .where(LeaseMemberRow.scope == self.scope, LeaseMemberRow.expires_at > now)
            )
        result.lost = sorted(self.owned - held)
        share = math.ceil(self.shard_count / max(1, live or 1))
        if len(held) < share:
            for shard in await self._free_shards(now):
                if len(held) >= share:
                    break
                if await self._take(shard, now, until):
                    held.add(shard)
                    result.acquired.append(shard)
        result.acquired.extend(sorted(held - self.owned - set(result.acquired)))
        result.surplus = sorted(held)[share:] if len(held) > share else []
        self.owned = held
        self._rows_ready = True
        for name, shards in (("lease_lost", result.lost), ("lease_acquired", result.acquired)):
            if shards:
                log.info(name, scope=self.scope, owner=self.owner, shards=shards)
        return result

    async def _ensure_rows(self, session: AsyncSession) -> None:
        """One row per shard, created by whoever comes first (a conflict is not an error)."""
        rows = [
            {"scope": self.scope, "shard": n, "owner": "", "expires_at": FREE}
            for n in range(self.shard_count)
        ]
        await session.execute(insert_new(self._engine, ShardLeaseRow, rows))

    async def _renew_membership(
        self, session: AsyncSession, now: datetime, until: datetime
    ) -> None:
        renewed = await session.execute(
            update(LeaseMemberRow)
            .where(LeaseMemberRow.scope == self.scope, LeaseMemberRow.owner == self.owner)
            .values(expires_at=until)
        )
        if renewed.rowcount == 0:  # type: ignore[attr-defined]
            session.add(LeaseMemberRow(scope=self.scope, owner=self.owner, expires_at=until))
        # Members gone for long are forgotten (bounded by the instances ever started).
        await session.execute(
            LeaseMemberRow.__table__.delete().where(
                LeaseMemberRow.scope == self.scope,
                LeaseMemberRow.expires_at < now - 10 * self.ttl,
            )
        )

    async def _free_shards(self, now: datetime) -> list[int]:
        async with self._sessions() as session:
            found = await session.scalars(
                select(ShardLeaseRow.shard)
                .where(ShardLeaseRow.scope == self.scope, ShardLeaseRow.expires_at <= now)
                .order_by(ShardLeaseRow.shard)
            )
            return list(found)

    async def _take(self, shard: int, now: datetime, until: datetime) -> bool:
        """The one conditional UPDATE that decides a race: True if this instance won."""
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(ShardLeaseRow)
                .where(
                    ShardLeaseRow.scope == self.scope,
                    ShardLeaseRow.shard == shard,
                    ShardLeaseRow.expires_at <= now,
                )
                .values(owner=self.owner, expires_at=until, acquired_at=now)
            )
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    async def release(self, shards: Iterable[int]) -> None:
        """Hand shards back at once (their work stopped and saved): free for the next owner
        now, not when the lease would have lapsed."""
        shards = list(shards)
        if not shards:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(ShardLeaseRow)
                .where(
                    ShardLeaseRow.scope == self.scope,
                    ShardLeaseRow.owner == self.owner,
                    ShardLeaseRow.shard.in_(shards),
                )
                .values(owner="", expires_at=FREE)
            )
        self.owned -= set(shards)
        log.info("lease_released", scope=self.scope, owner=self.owner, shards=sorted(shards))

    async def leave(self) -> None:
        """A clean stop: every shard back, and no longer counted as live."""
        await self.release(self.owned)
        async with self._sessions.begin() as session:
            await session.execute(
                LeaseMemberRow.__table__.delete().where(
                    LeaseMemberRow.scope == self.scope, LeaseMemberRow.owner == self.owner
                )
            )


Worker = Callable[[int], Coroutine[Any, Any, None]]


async def serve_shards(leases: ShardLeases, worker: Worker) -> None:
    """Run ``worker(shard)`` for exactly the shards this instance holds, until cancelled.

    A lost shard's worker is cancelled at once (someone else owns it now). A surplus shard's
    worker is cancelled and awaited (it saves its state while we still own the shard), then
    the shard is released. On a clean stop every worker is stopped the same way and every
    lease handed back, so a rolling restart moves shards without waiting for lapses. A
    database outage is waited out; past the lease's life every worker stops, since another
    instance may own the shards by then.
    """
    workers: dict[int, asyncio.Task[None]] = {}
    last_renewal = leases.clock.now()

    async def nap() -> None:
        """Until the next renewal, or until a worker ends (its failure is raised at once)."""
        sleeper = asyncio.ensure_future(leases.clock.sleep(leases.renew_every.total_seconds()))
        await asyncio.wait({sleeper, *workers.values()}, return_when=asyncio.FIRST_COMPLETED)
        sleeper.cancel()

    async def stop(shards: Iterable[int]) -> None:
        tasks = [workers.pop(shard) for shard in shards if shard in workers]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    try:
        while True:
            for shard, task in list(workers.items()):
                if task.done():  # a worker that failed: surface it, do not run without it
                    workers.pop(shard)
                    task.result()
            try:
                change = await leases.round()
                last_renewal = leases.clock.now()
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("lease_renewal_failed", scope=leases.scope, error=str(error))
                if leases.clock.now() - last_renewal >= leases.ttl:
                    await stop(list(workers))
                    leases.owned.clear()
                await nap()
                continue
            await stop(change.lost)
            await stop(change.surplus)
            try:
                await leases.release(change.surplus)
            except Exception as error:  # they lapse instead, or come back at the next round
                if not is_transient(error):
                    raise
                log.warning("lease_release_failed", scope=leases.scope, error=str(error))
            for shard in change.acquired:
                workers[shard] = asyncio.create_task(worker(shard), name=f"shard-{shard}")
            await nap()
    finally:
        await stop(list(workers))
        try:
            await leases.leave()
        except Exception as error:  # the leases lapse by themselves then; only slower
            log.warning("lease_leave_failed", scope=leases.scope, error=str(error))

"""Claiming due work (timers, outbox rows) so that two alerting instances never share it.

One statement serves both databases: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED)``. PostgreSQL locks the chosen rows and lets a second instance skip past them;
SQLite drops the ``FOR UPDATE`` but serialises every writer, and the UPDATE being the
transaction's first statement means the claim is taken under its write lock. The lease
(``owner``, ``lease_until``) then marks the rows as ours across the following transactions,
and lets another instance take them over if we die before finishing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eldercare.db.models import EscalationTimerRow, NotificationRow, TimerStatus
from eldercare.logs import get_logger

log = get_logger("alerting.leases")

#: Rows waiting for work: the same word in both tables (``NotificationStatus.PENDING``).
PENDING = TimerStatus.PENDING


async def claim_due(
    session: AsyncSession,
    table: Any,
    due_column: Any,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
) -> Sequence[int]:
    """Lease up to ``limit`` pending rows due by ``now`` to ``owner``; their ids, due first."""
    free = or_(table.lease_until.is_(None), table.lease_until <= now)
    due = and_(table.status == PENDING, due_column <= now, free)
    chosen = (
        select(table.id)
        .where(due)
        .order_by(due_column)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    until = now + lease
    await session.execute(
        update(table)
        .where(table.id.in_(chosen.scalar_subquery()), due)
        .values(owner=owner, lease_until=until)
        .execution_options(synchronize_session=False)
    )
    claimed = await session.scalars(
        select(table.id)
        .where(table.owner == owner, table.lease_until == until, table.status == PENDING)
        .order_by(due_column)
    )
    return claimed.all()


async def next_due(
    session: AsyncSession, table: Any, due_column: Any, now: datetime
) -> datetime | None:
    """When the next pending row can be worked on: its due time, or when its lease lapses."""
    free = or_(table.lease_until.is_(None), table.lease_until <= now)
    pending = table.status == PENDING
    due: datetime | None = await session.scalar(select(func.min(due_column)).where(pending, free))
    lapse: datetime | None = await session.scalar(
        select(func.min(table.lease_until)).where(pending, table.lease_until > now)
    )
    times = [t for t in (due, lapse) if t is not None]
    return min(times) if times else None


async def take_over(session: AsyncSession, table: Any, owner: str) -> int:
    """Free the pending rows other instances hold; how many.

    Only for the one instance that works these rows (a single alerting process, or the
    holder of the ``alerting`` lease): whoever claimed them is gone, and its leases would
    hold a call-button alert's first notification back for their whole length (2 min)
    after a crash. If the old holder was only stalled and sends after all, the receiver gets
    the same idempotency key twice, as after a lapse.
    """
    result = await session.execute(
        update(table)
        .where(table.status == PENDING, table.owner.is_not(None), table.owner != owner)
        .values(owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def take_over_all(engine: AsyncEngine, owner: str) -> None:
    """``take_over`` the escalation timers and the outbox, in one transaction."""
    async with async_sessionmaker(engine).begin() as session:
        for table in (EscalationTimerRow, NotificationRow):
            if freed := await take_over(session, table, owner):
                log.warning("leases_taken_over", table=table.__tablename__, rows=freed)

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
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.db.models import TimerStatus

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

"""Queries on ``home_activity``, the one place that reads or writes the table.

Every read is one home's time range or the newest row of a few homes, answered from the
primary key (home, at, …), so a request costs the same with 10 homes or 10 000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.sql import insert_ignoring_existing
from eldercare.db.models import HomeActivityRow, HomeRow
from eldercare.models import EventType

#: Rows per INSERT: SQLite allows 32 766 bound values per statement (5 per row).
INSERT_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Activity:
    """One sign of life: what a device in a room reported, at the device's time."""

    home: str
    at: datetime
    device: str
    type: EventType
    room: str | None = None

    @property
    def key(self) -> tuple[str, datetime, str, str]:
        return (self.home, self.at, self.device, self.type.value)


def _activity(row: HomeActivityRow) -> Activity:
    return Activity(row.home_id, row.at, row.device, EventType(row.type), row.room)


async def insert(session: AsyncSession, activities: Sequence[Activity]) -> None:
    for first in range(0, len(activities), INSERT_CHUNK):
        chunk = activities[first : first + INSERT_CHUNK]
        await session.execute(
            insert_ignoring_existing(session, HomeActivityRow),
            [
                {
                    "home_id": a.home,
                    "at": a.at,
                    "device": a.device,
                    "type": a.type.value,
                    "room": a.room,
                }
                for a in chunk
            ],
        )


async def between(
    session: AsyncSession, home_id: str, start: datetime, end: datetime, limit: int
) -> list[Activity]:
    """The home's activity in [start, end], oldest first, at most ``limit`` rows (the
    newest ones when there are more: the end of a window matters most)."""
    rows = await session.scalars(
        select(HomeActivityRow)
        .where(
            HomeActivityRow.home_id == home_id,
            HomeActivityRow.at >= start,
            HomeActivityRow.at <= end,
        )
        .order_by(HomeActivityRow.at.desc())
        .limit(limit)
    )
    return [_activity(row) for row in reversed(rows.all())]


async def latest(session: AsyncSession, home_ids: Sequence[str]) -> dict[str, Activity]:
    """Each home's newest activity: one index descent per home (a correlated ``LIMIT 1``),
    never a scan of its days, in two statements whatever the number of homes."""
    if not home_ids:
        return {}
    newest = (
        select(HomeActivityRow.at)
        .where(HomeActivityRow.home_id == HomeRow.id)
        .order_by(HomeActivityRow.at.desc())
        .limit(1)
        .correlate(HomeRow)
        .scalar_subquery()
    )
    pairs = [
        (home_id, at)
        for home_id, at in await session.execute(
            select(HomeRow.id, newest).where(HomeRow.id.in_(home_ids))
        )
        if at is not None
    ]
    if not pairs:
        return {}
    rows = await session.scalars(
        select(HomeActivityRow)
        .where(tuple_(HomeActivityRow.home_id, HomeActivityRow.at).in_(pairs))
        .order_by(HomeActivityRow.device, HomeActivityRow.type)
    )
    # Two devices at the very same instant: the first by name, the same answer every time.
    found: dict[str, Activity] = {}
    for row in rows:
        found.setdefault(row.home_id, _activity(row))
    return found


async def prune(session: AsyncSession, before: datetime) -> int:
    """Delete what is older than the retention; answers how many rows went."""
    result = await session.execute(delete(HomeActivityRow).where(HomeActivityRow.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

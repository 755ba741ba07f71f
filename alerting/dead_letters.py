"""Dead letters from every service, kept where operators can list them.

A service that cannot handle a message (a bug, a payload no code path accepts) publishes a
``DeadLetter`` on ``{prefix}/_deadletter/{service}`` at QoS 1 and moves on. Alerting stores
them all in one table (one writer, as for every table) through its persistent session, so a
record published while alerting is down is stored when it is back; ``eldercare
deadletters`` lists them. All queries on that table live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.db.models import DeadLetterRow
from eldercare.models import DeadLetter

#: What a row keeps of the record as it came (the id is the row's primary key).
KEPT = frozenset(DeadLetter.model_fields) - {"schema_version", "dead_letter_id"}


class DeadLetterView(DeadLetter):
    """A stored dead letter: the record as published, and when alerting stored it."""

    stored_at: datetime

    @classmethod
    def from_row(cls, row: DeadLetterRow) -> DeadLetterView:
        kept = {name: getattr(row, name) for name in KEPT}
        return cls(dead_letter_id=row.id, stored_at=row.stored_at, **kept)


async def store(session: AsyncSession, record: DeadLetter, now: datetime) -> bool:
    """Keep one dead letter; False when it was stored before (a QoS 1 redelivery)."""
    if await session.get(DeadLetterRow, record.dead_letter_id) is not None:
        return False
    kept = record.model_dump(include=set(KEPT))
    session.add(DeadLetterRow(id=record.dead_letter_id, stored_at=now, **kept))
    return True


async def newest(
    session: AsyncSession, *, service: str | None, limit: int
) -> Sequence[DeadLetterRow]:
    query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
    if service is not None:
        query = query.where(DeadLetterRow.service == service)
    return (await session.scalars(query)).all()


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0

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

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.db.models import DeadLetterRow
from eldercare.models import DeadLetter


class DeadLetterView(BaseModel):
    dead_letter_id: str
    service: str
    topic: str
    payload: str
    payload_encoding: str
    payload_size: int
    error_type: str
    error: str
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int
    stored_at: datetime

    @classmethod
    def from_row(cls, row: DeadLetterRow) -> DeadLetterView:
        return cls(
            dead_letter_id=row.id,
            service=row.service,
            topic=row.topic,
            payload=row.payload,
            payload_encoding=row.payload_encoding,
            payload_size=row.payload_size,
            error_type=row.error_type,
            error=row.error,
            first_failed_at=row.first_failed_at,
            last_failed_at=row.last_failed_at,
            attempts=row.attempts,
            stored_at=row.stored_at,
        )


async def store(session: AsyncSession, record: DeadLetter, now: datetime) -> bool:
    """Keep one dead letter; False when it was stored before (a QoS 1 redelivery)."""
    if await session.get(DeadLetterRow, record.dead_letter_id) is not None:
        return False
    session.add(
        DeadLetterRow(
            id=record.dead_letter_id,
            service=record.service,
            topic=record.topic,
            payload=record.payload,
            payload_encoding=record.payload_encoding,
            payload_size=record.payload_size,
            error_type=record.error_type,
            error=record.error,
            first_failed_at=record.first_failed_at,
            last_failed_at=record.last_failed_at,
            attempts=record.attempts,
            stored_at=now,
        )
    )
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

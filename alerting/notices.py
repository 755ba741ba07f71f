"""After an acknowledgement, tell everyone who was already asked that someone has it.

Without it, the son who got the 08:16 message keeps calling, and a second staff member
drives over. Written in the acknowledging transaction, sent by the outbox like any message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.messages import render_taken
from eldercare.db.models import (
    AlertRow,
    NotificationPurpose,
    NotificationRow,
    NotificationStatus,
)
from eldercare.models import AlertKind
from eldercare.vocabulary import DEFAULT_TIMEZONE
from gateway import registry_api


async def enqueue_taken(session: AsyncSession, alert_id: str, by: str, now: datetime) -> None:
    alert = await session.get(AlertRow, alert_id)
    if alert is None:
        return
    asked = (
        await session.scalars(
            select(NotificationRow)
            .where(
                NotificationRow.alert_id == alert_id,
                NotificationRow.purpose == NotificationPurpose.ALERT,
                NotificationRow.status == NotificationStatus.SENT,
            )
            .order_by(NotificationRow.id)
        )
    ).all()
    home = await registry_api.home(session, alert.home_id)
    residents = await registry_api.resident_names(session, alert.home_id)
    who = (residents[0] if residents else None) or (home.name if home else "") or alert.home_id
    timezone = home.timezone if home else DEFAULT_TIMEZONE
    told: set[str] = set()
    for row in asked:
        if row.recipient in told or row.recipient_name == by:
            continue
        told.add(row.recipient)
        title, body = render_taken(AlertKind(alert.kind), who, by, now, timezone, row.language)
        session.add(
            NotificationRow(
                alert_id=alert_id,
                tier=row.tier,
                purpose=NotificationPurpose.TAKEN,
                idempotency_key=f"{alert_id}.taken.{row.recipient}",
                recipient=row.recipient,
                recipient_name=row.recipient_name,
                language=row.language,
                channels=row.channels,
                title=title,
                body=body,
                status=NotificationStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

"""After an acknowledgement, tell everyone who was already asked that someone has it.

Without it, the son who got the 08:16 message keeps calling, and a second staff member
drives over. Written in the acknowledging transaction, sent by the outbox like any message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from alerting import store
from alerting.messages import render_taken
from eldercare.db.models import NotificationPurpose
from eldercare.models import AlertKind
from eldercare.vocabulary import DEFAULT_TIMEZONE
from gateway import registry_api


async def enqueue_taken(session: AsyncSession, alert_id: str, by: str, now: datetime) -> None:
    alert = await store.get_alert(session, alert_id)
    asked = await store.sent_asks(session, alert_id)
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
        message = store.Message(
            row.recipient, row.recipient_name, row.language, row.channels, title, body
        )
        key = f"{alert_id}.taken.{row.recipient}"
        store.enqueue(
            session, alert_id, row.tier, key, message, now, purpose=NotificationPurpose.TAKEN
        )

"""The alerting service: alerts from MQTT into the store, lifecycle updates back out."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.api import AlertingApi
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import Alert, QuarantineRecord
from eldercare.settings import Settings

log = get_logger("alerting")


class AlertIntake:
    def __init__(self, settings: Settings, clock: Clock, api: AlertingApi) -> None:
        self.topics = settings.topics
        self.clock = clock
        self.api = api
        self.rejected = 0

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            alert = Alert.model_validate_json(payload)
        except ValidationError as error:
            self.rejected += 1
            log.error("alert_rejected", topic=topic, reason=str(error.errors()[0]["msg"]))
            record = QuarantineRecord(
                topic=topic,
                reason=f"alert schema: {error.errors()[0]['msg']}",
                received_at=self.clock.now(),
                size=len(payload),
                payload_head=payload[:512].decode("utf-8", errors="replace"),
            )
            return [Outgoing(self.topics.quarantine(topic), record.to_json(), qos=0)]
        # Storing happens before the broker gets its PUBACK for the next message, so an
        # alert is either in the database or still queued in our persistent session.
        update = await self.api.record(alert)
        if update is None:
            log.info("alert_redelivered", alert_id=alert.alert_id, home=alert.home)
            return []
        log.info(
            "alert_stored" if update.alert_id == alert.alert_id else "alert_trigger_attached",
            alert_id=update.alert_id,
            home=alert.home,
            kind=alert.kind,
            status=update.status,
        )
        return [Outgoing(self.topics.alert_updates(update.alert_id), update.to_json(), qos=1)]


async def run(settings: Settings, clock: Clock, engine: AsyncEngine) -> None:
    intake = AlertIntake(settings, clock, AlertingApi(engine, clock))
    connection = MqttConnection(
        settings, "eldercare-alerting", [settings.topics.all_alerts_filter], intake.handle
    )
    await connection.run()

"""The detector service: normalised events in, alerts out (QoS 1)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from detector.call_button import call_button_alert
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import Event
from eldercare.settings import Settings
from eldercare.topics import Channel

log = get_logger("detector")


class Detector:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.topics = settings.topics
        self.clock = clock
        self.invalid = 0

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            event = Event.model_validate_json(payload)
        except ValidationError:
            # The gateway validated this already; a failure here means a contract drift.
            self.invalid += 1
            log.error("normalised_event_invalid", topic=topic)
            return []
        alert = call_button_alert(event, self.clock.now())
        if alert is None:
            return []
        log.info(
            "alert_raised",
            alert_id=alert.alert_id,
            home=alert.home,
            device=event.device,
            kind=alert.kind,
            severity=alert.severity,
        )
        return [Outgoing(self.topics.home_alerts(alert.home), alert.to_json(), qos=1)]


async def run(settings: Settings, clock: Clock) -> None:
    detector = Detector(settings, clock)
    connection = MqttConnection(
        settings,
        "eldercare-detector",
        [settings.topics.normalised_filter(Channel.EVENT)],
        detector.handle,
    )
    await connection.run()

"""Watch the watcher: when one of our own services goes offline (its MQTT last will, or a
clean ``offline``), raise a ``system`` alert through the same escalation as any other.

The system must never go quiet silently: a stopped detector means call buttons ring in an
empty room. The alert's ``home`` is the service's id, so dedup keeps one alert per service;
when the service comes back, alerting resolves it itself (outcome ``recovered``), and the
timeline keeps both steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from pydantic import ValidationError
from ulid import ULID

from alerting.api import AlertingApi
from alerting.lifecycle import Outcome, TransitionRefused
from eldercare.bus import Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import (
    Alert,
    AlertKind,
    AlertUpdate,
    DeviceState,
    Evidence,
    LocalizedText,
    ServiceStatus,
    Severity,
)
from eldercare.topics import Topics

log = get_logger("alerting.watch")


def system_alert(service: str, raised_at: datetime) -> Alert:
    return Alert(
        alert_id=str(ULID.from_datetime(raised_at)),
        home=service,
        kind=AlertKind.SYSTEM,
        severity=Severity.CRITICAL,
        raised_at=raised_at,
        evidence=[Evidence(device=service, type="service_offline")],
        explanation=LocalizedText(
            zh_cn=f"系统服务 {service} 已离线，告警可能无法送达",
            en=f"Service {service} is offline; alerts may not get through",
        ),
    )


class ServiceWatch:
    def __init__(
        self,
        topics: Topics,
        clock: Clock,
        api: AlertingApi,
        watched: Iterable[str],
        on_raised: Callable[[], None],
    ) -> None:
        self.topics = topics
        self.clock = clock
        self.api = api
        self.watched = frozenset(watched)
        self.on_raised = on_raised

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            status = ServiceStatus.model_validate_json(payload)
        except ValidationError:
            log.warning("service_status_invalid", topic=topic)
            return []
        if status.service not in self.watched:
            return []
        now = self.clock.now()
        update: AlertUpdate | None
        if status.state is DeviceState.OFFLINE:
            alert = system_alert(status.service, now)
            update = await self.api.record(alert)
            log.error("service_offline", service=status.service, alert_id=alert.alert_id)
            self.on_raised()
        else:
            update = await self._recovered(status.service)
        if update is None:
            return []
        return [Outgoing(self.topics.alert_updates(update.alert_id), update.to_json(), qos=1)]

    async def _recovered(self, service: str) -> AlertUpdate | None:
        open_alert = await self.api.open_alert(service, AlertKind.SYSTEM)
        if open_alert is None:
            return None
        log.info("service_back_online", service=service, alert_id=open_alert)
        try:
            return await self.api.resolve(
                open_alert,
                actor="alerting",
                channel="presence",
                note=f"{service} is back online",
                outcome=Outcome.RECOVERED,
            )
        except TransitionRefused:
            return None

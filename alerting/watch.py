"""Watch the watcher: when one of our own services goes offline, stops sending heartbeats,
or sticks on one message, raise a ``system`` alert through the same escalation as any other.

The system must never go quiet silently: a stopped detector means call buttons ring in an
empty room. Four signals, each cheap: presence (the MQTT last will says ``offline`` when a
connection dies), missing heartbeats (the process no longer runs its event loop) and
``busy_s`` in the heartbeat (a handler waits forever, e.g. on a locked database), and
input that the service's ``handled`` count does not follow (``alerting.stalls``). The
alert's ``home`` is the service's id, so dedup keeps one alert per service; when the
service is healthy again, alerting resolves it itself (outcome ``recovered``) and the
timeline keeps both steps. Liveness is judged on wall time, like MQTT keep-alive: a sped-up
or simulated clock must not make a healthy service look silent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from ulid import ULID

from alerting import notes
from alerting.api import AlertingApi
from alerting.lifecycle import TransitionRefused
from alerting.stalls import InputStalls, Verdict, input_feeds
from alerting.store import ALERTING
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import (
    Alert,
    AlertKind,
    AlertUpdate,
    DeviceState,
    Evidence,
    LocalizedText,
    Outcome,
    ServiceHeartbeat,
    ServiceStatus,
    Severity,
)
from eldercare.topics import Topics

log = get_logger("alerting.watch")

#: Heartbeats missed before a service counts as not responding.
SILENT_AFTER_BEATS = 3
#: Heartbeat intervals one message may stay in a handler before the service counts as stuck.
STUCK_AFTER_BEATS = 4


def system_alert(service: str, raised_at: datetime, problem: str, text: LocalizedText) -> Alert:
    return Alert(
        alert_id=str(ULID.from_datetime(raised_at)),
        home=service,
        kind=AlertKind.SYSTEM,
        severity=Severity.CRITICAL,
        raised_at=raised_at,
        evidence=[Evidence(device=service, type=problem)],
        explanation=text,
    )


def _offline(service: str) -> LocalizedText:
    return LocalizedText(
        zh_cn=f"系统服务 {service} 已离线，告警可能无法送达",
        en=f"Service {service} is offline; alerts may not get through",
    )


def _silent(service: str, seconds: float) -> LocalizedText:
    return LocalizedText(
        zh_cn=f"系统服务 {service} 已 {seconds:.0f} 秒没有心跳，可能已停止处理",
        en=f"Service {service} sent no heartbeat for {seconds:.0f} s; it may have stopped",
    )


def _stuck(service: str, seconds: float) -> LocalizedText:
    return LocalizedText(
        zh_cn=f"系统服务 {service} 处理一条消息已 {seconds:.0f} 秒，可能已卡住",
        en=f"Service {service} has been stuck on one message for {seconds:.0f} s",
    )


def _stalled(service: str, seconds: float) -> LocalizedText:
    return LocalizedText(
        zh_cn=f"系统服务 {service} 在线且有心跳，但家中设备发来的消息已 {seconds:.0f} 秒未被处理，"
        "可能已丢失订阅",
        en=f"Service {service} is up and sends heartbeats, but has handled none of the input "
        f"homes sent in the last {seconds:.0f} s; it may have lost its subscription",
    )


@dataclass
class _Liveness:
    last_beat: float  # time.monotonic()
    interval_s: float
    problem: str | None = None  # offline | silent | stuck | stalled, while an alert is raised


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
        self.services: dict[str, _Liveness] = {}
        #: Set when the witness should read other feeds than it does (``follow_inputs``).
        self.inputs_changed = asyncio.Event()
        self.stalls = InputStalls(input_feeds(topics, self.watched), self.inputs_changed.set)

    async def handle_status(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            status = ServiceStatus.model_validate_json(payload)
        except ValidationError:
            log.warning("service_status_invalid", topic=topic)
            return []
        if status.service not in self.watched:
            return []
        if status.state is DeviceState.OFFLINE:
            return await self._raise(status.service, "offline", _offline(status.service))
        return await self._recovered(status.service, online=True)

    async def handle_heartbeat(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            beat = ServiceHeartbeat.model_validate_json(payload)
        except ValidationError:
            log.warning("heartbeat_invalid", topic=topic)
            return []
        if beat.service not in self.watched:
            return []
        now = time.monotonic()
        liveness = self._liveness(beat.service, beat.interval_s)
        verdict = self.stalls.heartbeat(beat.service, beat.handled, beat.interval_s, now)
        if beat.busy_s > STUCK_AFTER_BEATS * beat.interval_s:
            return await self._raise(beat.service, "stuck", _stuck(beat.service, beat.busy_s))
        if verdict is Verdict.STALLED:
            waited = self.stalls.waiting_s(beat.service, now)
            return await self._raise(beat.service, "stalled", _stalled(beat.service, waited))
        if liveness.problem in {"silent", "stuck"} or (
            liveness.problem == "stalled" and verdict is Verdict.PROGRESS
        ):
            return await self._recovered(beat.service, online=False)
        return []

    async def handle_input(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """A message on a watched service's input (sampled at QoS 0 on its own connection)."""
        self.stalls.saw_input(topic, time.monotonic())
        return []

    async def follow_inputs(self, inputs: MqttConnection) -> None:
        """Until cancelled: ``inputs`` (the witness's session, ``handle_input``) subscribed to
        the feeds the stall watch wants now (``InputStalls.wanted``), a few messages per
        service per heartbeat instead of every home's events."""
        while True:
            self.inputs_changed.clear()
            await inputs.set_subscriptions(self.stalls.wanted)
            await self.inputs_changed.wait()

    async def check_silence(self) -> Sequence[Outgoing]:
        """Called every heartbeat interval: services whose heartbeats stopped."""
        out: list[Outgoing] = []
        now = time.monotonic()
        for service, liveness in self.services.items():
            quiet = now - liveness.last_beat
            if liveness.problem is None and quiet > SILENT_AFTER_BEATS * liveness.interval_s:
                out.extend(await self._raise(service, "silent", _silent(service, quiet)))
        return out

    def _liveness(self, service: str, interval_s: float) -> _Liveness:
        liveness = self.services.setdefault(service, _Liveness(time.monotonic(), interval_s))
        liveness.last_beat, liveness.interval_s = time.monotonic(), interval_s
        return liveness

    async def _raise(self, service: str, problem: str, text: LocalizedText) -> list[Outgoing]:
        liveness = self.services.get(service)
        if liveness is not None:
            if liveness.problem is not None and problem != "offline":
                return []  # already raised; a heartbeat every few seconds is not news
            liveness.problem = problem
        alert = system_alert(service, self.clock.now(), problem, text)
        log.error("service_unhealthy", service=service, problem=problem, alert_id=alert.alert_id)
        update = await self.api.record(alert)
        self.on_raised()
        return self._publish(update)

    async def _recovered(self, service: str, *, online: bool) -> list[Outgoing]:
        liveness = self.services.get(service)
        if liveness is not None:
            liveness.problem = None
            liveness.last_beat = time.monotonic()
        open_alert = await self.api.open_alert(service, AlertKind.SYSTEM)
        if open_alert is None:
            return []
        log.info("service_healthy_again", service=service, alert_id=open_alert)
        try:
            update = await self.api.resolve(
                open_alert,
                actor=ALERTING,
                channel="watch",
                note=notes.service_back(service, online=online),
                outcome=Outcome.RECOVERED,
            )
        except TransitionRefused:
            return []
        return self._publish(update)

    def _publish(self, update: AlertUpdate | None) -> list[Outgoing]:
        if update is None:
            return []
        return [Outgoing(self.topics.alert_updates(update.alert_id), update.to_json(), qos=1)]

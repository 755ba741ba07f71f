"""The one MQTT transport every service uses: a reconnecting aiomqtt connection.

Services are written as handlers ``(topic, payload) -> list[Outgoing]`` (pure decisions,
testable without a broker); this module owns the client, the persistent session (fixed
client id, clean session off, QoS 1) and the reconnect loop, so a broker restart costs a
few seconds of delay and no messages.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiomqtt

from eldercare.failures import dead_letter, is_transient
from eldercare.logs import get_logger
from eldercare.models import DeviceState, ServiceHeartbeat, ServiceStatus
from eldercare.settings import Settings

log = get_logger("bus")

RECONNECT_MIN_S = 0.2
RECONNECT_MAX_S = 5.0
#: Tries of a handler that fails for a reason retrying does not cure (a bug, a payload no
#: code path accepts) before the message is set aside as a dead letter. More than one, in
#: case the cause was a race with another message's work.
POISON_ATTEMPTS = 3
POISON_PAUSE_S = 0.1


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


Handler = Callable[[str, bytes], Awaitable[Sequence[Outgoing]]]


class MqttConnection:
    """A service's connection: consume subscriptions with a handler, publish from anywhere.

    ``publish`` waits for the connection to be up, so a message produced while the broker is
    away is sent after reconnect instead of being dropped.
    """

    def __init__(
        self,
        settings: Settings,
        client_id: str,
        subscriptions: Sequence[str] = (),
        handler: Handler | None = None,
        *,
        persistent: bool = True,
        on_connect: Sequence[Outgoing] = (),
        qos: int = 1,
    ) -> None:
        self._settings = settings
        self.client_id = client_id
        self._subscriptions = list(subscriptions)
        self._handler = handler
        self._persistent = persistent
        self._qos = qos  # 0 for a stream that is only sampled (nothing to redeliver)
        # Presence: "online" once subscribed (so a watcher knows we are ready), "offline" as
        # the last will, so a crashed service is visible to operators and to tests.
        status_topic = settings.topics.service_status(client_id)
        self._will = Outgoing(
            status_topic,
            ServiceStatus(service=client_id, state=DeviceState.OFFLINE).to_json(),
            retain=True,
        )
        online = ServiceStatus(service=client_id, state=DeviceState.ONLINE).to_json()
        self._on_connect = [*on_connect, Outgoing(status_topic, online, retain=True)]
        self._client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.handler_errors = 0
        self.handled = 0
        self.retries = 0
        self.dead_letters = 0
        self._busy_since: float | None = None

    def _make_client(self) -> aiomqtt.Client:
        broker = self._settings.broker
        will = aiomqtt.Will(self._will.topic, self._will.payload, self._will.qos, self._will.retain)
        client = aiomqtt.Client(
            broker.host,
            broker.port,
            username=broker.username,
            password=broker.password,
            identifier=self.client_id,
            clean_session=not self._persistent,
            will=will,
            keepalive=15,
            # Send small packets at once. Every QoS 1 publish waits for its PUBACK; with Nagle
            # on, a PUBACK queued behind unacknowledged data waits for the peer's delayed ACK
            # (~40 ms), capping a service at a few dozen messages per second (measured: 21/s →
            # 780/s with TCP_NODELAY here and ``set_tcp_nodelay true`` in mosquitto).
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        # Acknowledge (PUBACK) only after the handler's work is done and its output is at the
        # broker: a crash mid-message then means redelivery, never a lost alert. aiomqtt has
        # no switch for this, so it is set on the paho client it wraps.
        client._client.manual_ack_set(True)
        return client

    async def run(self) -> None:
        """Connect, subscribe and consume until cancelled, reconnecting on any broker error."""
        delay = RECONNECT_MIN_S
        while True:
            try:
                async with self._make_client() as client:
                    self._client = client
                    for topic in self._subscriptions:
                        await client.subscribe(topic, qos=self._qos)
                    for message in self._on_connect:
                        await _publish(client, message)
                    self.connected.set()
                    log.info("mqtt_connected", client_id=self.client_id)
                    delay = RECONNECT_MIN_S
                    heartbeats = asyncio.create_task(self._heartbeats(client))
                    try:
                        async for message in client.messages:
                            await self._dispatch(client, message)
                    finally:
                        heartbeats.cancel()
                        # Bounded: a heartbeat stuck in a publish must not hold up shutdown.
                        await asyncio.wait({heartbeats}, timeout=2)
                        if heartbeats.done() and not heartbeats.cancelled():
                            heartbeats.exception()  # a broker error there is handled below
                    # aiomqtt ends iteration only when the connection is gone
                    raise aiomqtt.MqttError("message stream ended")
            except aiomqtt.MqttError as error:
                self.connected.clear()
                self._client = None
                log.warning(
                    "mqtt_disconnected", client_id=self.client_id, error=str(error), retry_s=delay
                )
                # Reconnect backoff is about the network, so it uses wall time, not the Clock.
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _heartbeats(self, client: aiomqtt.Client) -> None:
        """Proof of work every ``heartbeat_s`` (wall time: liveness is about the process)."""
        interval = self._settings.heartbeat_s
        topic = self._settings.topics.service_heartbeat(self.client_id)
        while True:
            busy = 0.0 if self._busy_since is None else time.monotonic() - self._busy_since
            beat = ServiceHeartbeat(
                service=self.client_id,
                at=datetime.now(UTC),
                interval_s=interval,
                handled=self.handled,
                errors=self.handler_errors,
                busy_s=round(busy, 3),
                retries=self.retries,
                dead_letters=self.dead_letters,
            )
            await _publish(client, Outgoing(topic, beat.to_json(), qos=0))
            await asyncio.sleep(interval)

    async def _dispatch(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        payload = message.payload if isinstance(message.payload, bytes) else b""
        self._busy_since = time.monotonic()
        try:
            outgoing = await self._handle(message.topic.value, payload)
        finally:
            self._busy_since = None
            self.handled += 1
        for item in outgoing:
            await _publish(client, item)
        if message.qos > 0:
            client._client.ack(message.mid, message.qos)

    async def _handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """The handler's output, or a dead letter: never nothing while the message is acked.

        A transient failure (database or broker away) is retried until it succeeds or we
        are cancelled, and the message stays unacknowledged meanwhile, so a kill during the
        wait means redelivery. Any other failure is retried ``POISON_ATTEMPTS`` times, then
        the message is set aside as a dead letter, so one bad message cannot stop every
        home's messages behind it.
        """
        if self._handler is None:
            return ()
        delay, attempts, failures = RECONNECT_MIN_S, 0, 0
        first_failed_at: datetime | None = None
        while True:
            try:
                return await self._handler(topic, payload)
            except Exception as error:
                attempts += 1
                self.handler_errors += 1
                first_failed_at = first_failed_at or datetime.now(UTC)
                fields = {"client_id": self.client_id, "topic": topic, "attempt": attempts}
                if is_transient(error):
                    self.retries += 1
                    log.warning("handler_retry", error=_describe(error), retry_s=delay, **fields)
                    # Waiting for infrastructure to come back: wall time, like reconnects.
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX_S)
                    continue
                failures += 1
                if failures < POISON_ATTEMPTS:
                    log.warning("handler_failed", error=_describe(error), **fields)
                    await asyncio.sleep(POISON_PAUSE_S)
                    continue
                return self._set_aside(topic, payload, error, first_failed_at, attempts)

    def _set_aside(
        self,
        topic: str,
        payload: bytes,
        error: BaseException,
        first_failed_at: datetime,
        attempts: int,
    ) -> Sequence[Outgoing]:
        """Called while handling ``error``: the log line carries its traceback."""
        topics = self._settings.topics
        if topics.is_dead_letter(topic):
            # A dead letter about a dead letter would loop: this log line is its record.
            log.exception(
                "dead_letter_unhandled",
                client_id=self.client_id,
                payload=payload.decode("utf-8", errors="replace"),
            )
            return ()
        self.dead_letters += 1
        record = dead_letter(
            self.client_id,
            topic,
            payload,
            error,
            first_failed_at=first_failed_at,
            last_failed_at=datetime.now(UTC),
            attempts=attempts,
        )
        log.exception(
            "message_dead_lettered",
            client_id=self.client_id,
            topic=topic,
            attempts=attempts,
            dead_letter_id=record.dead_letter_id,
        )
        return [Outgoing(topics.dead_letters(self.client_id), record.to_json(), qos=1)]

    async def publish(self, message: Outgoing) -> None:
        """Publish, waiting through reconnects until the broker has taken the message."""
        while True:
            await self.connected.wait()
            client = self._client
            if client is None:
                continue
            try:
                await _publish(client, message)
                return
            except aiomqtt.MqttError as error:
                log.warning("mqtt_publish_retry", topic=message.topic, error=str(error))
                self.connected.clear()
                await asyncio.sleep(RECONNECT_MIN_S)


async def _publish(client: aiomqtt.Client, message: Outgoing) -> None:
    """Publish, and honour a cancellation that arrived meanwhile.

    On Python 3.11 aiomqtt's publish (``asyncio.wait_for`` inside) loses a cancellation that
    arrives as the PUBACK does. The service would then go back to waiting for the next
    message and its shutdown would hang (it hung CI once); the task still counts the request.
    """
    await client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]

"""The one MQTT transport every service uses: a reconnecting aiomqtt connection.

Services are written as handlers ``(topic, payload) -> list[Outgoing]`` (pure decisions,
testable without a broker); this module owns the client, the persistent session (fixed
client id, clean session off, QoS 1) and the reconnect loop, so a broker restart costs a
few seconds of delay and no messages.

Messages are handled one at a time, in arrival order, but their outputs are not waited for
one by one: each message's publishes go out at once and the input is acknowledged when all
of them are at the broker (PUBACK). Acknowledgements must go in arrival order (MQTT 3.1.1
§4.6), so inputs wait in a FIFO of at most ``MAX_PENDING_INPUTS`` messages; waiting for
each PUBACK before reading the next message capped a service at one round trip a message.

Subscriptions can change while connected (``set_subscriptions``): the gateway's life-safety
lane follows the registry. The wanted set is re-applied on every reconnect.

A session of ordinary traffic can step aside for urgent work in the same process
(``steps_aside_for``, ``eldercare.urgent_work``): the dashboard's activity feed while an
alert update is handled.

``read_retained`` reads once what the broker retains under a filter: a service's own state
from before its restart (the gateway's device statuses).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiomqtt
from paho.mqtt.client import topic_matches_sub

from eldercare.failures import dead_letter, is_transient
from eldercare.logs import get_logger
from eldercare.models import DeviceState, ServiceHeartbeat, ServiceStatus
from eldercare.mqtt_writes import coalesce_writes
from eldercare.settings import Settings
from eldercare.shedding_queue import SAMPLED_BACKLOG, SheddingQueue
from eldercare.urgent_work import UrgentWork

log = get_logger("bus")

RECONNECT_MIN_S = 0.2
RECONNECT_MAX_S = 5.0
#: How long a clean stop waits for handled messages' outputs to be confirmed.
DRAIN_S = 2.0
#: Tries of a handler that fails for a reason retrying does not cure (a bug, a payload no
#: code path accepts) before the message is set aside as a dead letter. More than one, in
#: case the cause was a race with another message's work.
POISON_ATTEMPTS = 3
POISON_PAUSE_S = 0.1
#: Inputs handled whose outputs are not all at the broker yet. Enough to hide the round
#: trip; few enough that a reconnect redelivers (and re-publishes) little.
MAX_PENDING_INPUTS = 64
#: aiomqtt logs a warning on every publish made while more than this many await their PUBACK
#: (its default is 10). Here many in flight is the design (``MAX_PENDING_INPUTS`` inputs,
#: each with its outputs): at the default, a busy gateway wrote a log line per message
#: (3 % of its CPU at 10 000 homes, issue 18). Past this many, something is stuck.
PENDING_PUBLISHES_WARNING = 10_000
#: Topic filters per SUBSCRIBE/UNSUBSCRIBE packet (the lane may follow thousands of devices).
SUBSCRIBE_BATCH = 500
#: ``read_retained``: the silence after the last retained message (or the SUBACK) that ends
#: the read, and its bound whatever still comes.
RETAINED_QUIET_S = 1.0
RETAINED_LIMIT_S = 60.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


Handler = Callable[[str, bytes], Awaitable[Sequence[Outgoing]]]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A topic filter and the handler its messages go to.

    Each service declares its subscriptions once, as a list of these: its MQTT session is
    built from that list (``MqttConnection.serving``) and so is the in-process harness that
    replays days through the same handlers, so the two cannot wire a service differently.
    """

    topic_filter: str
    handler: Handler


def dispatch(subscriptions: Sequence[Subscription]) -> Handler:
    """One session, several subscriptions: each message goes to the first subscription whose
    filter matches its topic. A session whose filters all feed one handler gets that handler
    itself (no matching per message on the gateway's hot path)."""
    if subscriptions and all(s.handler == subscriptions[0].handler for s in subscriptions):
        return subscriptions[0].handler

    async def handle(topic: str, payload: bytes) -> Sequence[Outgoing]:
        for subscription in subscriptions:
            if topic_matches_sub(subscription.topic_filter, topic):
                return await subscription.handler(topic, payload)
        return []

    return handle


@dataclass(slots=True)
class _Pending:
    """A handled input waiting for its outputs' PUBACKs before it may be acknowledged."""

    message: aiomqtt.Message
    sends: list[asyncio.Future[None]] = field(default_factory=list)


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
        on_retained: Handler | None = None,
        steps_aside_for: UrgentWork | None = None,
    ) -> None:
        self._settings = settings
        self.client_id = client_id
        self._subscriptions = dict.fromkeys(subscriptions)  # ordered set
        #: Filters dropped while the broker may still hold them (unsubscribed on reconnect).
        self._stale: set[str] = set()
        self._subscribing = asyncio.Lock()
        self._handler = handler
        #: Where a retained delivery goes: the broker's replay of a topic's last message when
        #: a filter is subscribed (every reconnect), not something that happened now. Without
        #: one, the handler takes it like any message.
        self._on_retained = on_retained
        self._persistent = persistent
        self._qos = qos  # 0 for a stream that is only sampled (nothing to redeliver)
        #: Each message waits while this urgent work runs (``eldercare.urgent_work``).
        self._steps_aside_for = steps_aside_for
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
        #: Messages a sampled (QoS 0) session dropped, oldest first, when it fell behind.
        self.shed = 0
        self._busy_since: float | None = None

    @classmethod
    def serving(
        cls,
        settings: Settings,
        client_id: str,
        subscriptions: Sequence[Subscription],
        *,
        persistent: bool = True,
        qos: int = 1,
        on_retained: Handler | None = None,
        steps_aside_for: UrgentWork | None = None,
    ) -> MqttConnection:
        """A session that reads a service's declared subscriptions, each into its handler."""
        return cls(
            settings,
            client_id,
            [s.topic_filter for s in subscriptions],
            dispatch(subscriptions),
            persistent=persistent,
            qos=qos,
            on_retained=on_retained,
            steps_aside_for=steps_aside_for,
        )

    def _shedding_queue(self, maxsize: int) -> SheddingQueue:
        return SheddingQueue(maxsize, self._count_shed)

    def _count_shed(self) -> None:
        """Count a shed message; log the first and then one line per backlog, not per message."""
        self.shed += 1
        if self.shed == 1 or self.shed % SAMPLED_BACKLOG == 0:
            log.warning("sampled_messages_shed", client_id=self.client_id, shed=self.shed)

    def _make_client(self) -> aiomqtt.Client:
        broker = self._settings.broker
        will = aiomqtt.Will(self._will.topic, self._will.payload, self._will.qos, self._will.retain)
        sampled = self._qos == 0
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
            # A sampled session's backlog is in this process, not on the broker: bounded.
            queue_type=self._shedding_queue if sampled else None,  # type: ignore[arg-type]
            max_queued_incoming_messages=SAMPLED_BACKLOG if sampled else None,
        )
        # Acknowledge (PUBACK) only after the handler's work is done and its output is at the
        # broker: a crash mid-message then means redelivery, never a lost alert. aiomqtt has
        # no switch for this, so it is set on the paho client it wraps.
        client._client.manual_ack_set(True)
        client.pending_calls_threshold = PENDING_PUBLISHES_WARNING
        coalesce_writes(client._client)
        return client

    async def run(self) -> None:
        """Connect, subscribe and consume until cancelled, reconnecting on any broker error."""
        delay = RECONNECT_MIN_S
        while True:
            try:
                async with self._make_client() as client:
                    async with self._subscribing:
                        self._client = client
                        await self._apply(client, list(self._subscriptions), list(self._stale))
                    for message in self._on_connect:
                        await _publish(client, message)
                    self.connected.set()
                    log.info("mqtt_connected", client_id=self.client_id)
                    delay = RECONNECT_MIN_S
                    heartbeats = asyncio.create_task(self._heartbeats(client))
                    try:
                        await self._consume(client)
                    finally:
                        heartbeats.cancel()
                        # Bounded: a heartbeat stuck in a publish must not hold up shutdown.
                        await asyncio.wait({heartbeats}, timeout=2)
                        if heartbeats.done() and not heartbeats.cancelled():
                            heartbeats.exception()  # a broker error there is handled below
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

    @property
    def subscriptions(self) -> list[str]:
        return list(self._subscriptions)

    async def set_subscriptions(self, topics: Iterable[str]) -> None:
        """Follow exactly these topic filters from now on (and after every reconnect).

        Applied at once when connected; a broker error meanwhile is left to the reconnect,
        which subscribes the whole set and unsubscribes what was dropped.
        """
        wanted = dict.fromkeys(topics)
        async with self._subscribing:
            added = [topic for topic in wanted if topic not in self._subscriptions]
            removed = [topic for topic in self._subscriptions if topic not in wanted]
            await self._change(added, removed)

    async def change_subscriptions(self, added: Iterable[str], removed: Iterable[str]) -> None:
        """``set_subscriptions`` told only what changes, at the cost of the change rather than
        of the whole set: the gateway's lane follows 50 000 topics at 10 000 homes, and
        comparing them all held its loop 35-65 ms per registry change (issue 18)."""
        async with self._subscribing:
            await self._change(
                [topic for topic in dict.fromkeys(added) if topic not in self._subscriptions],
                [topic for topic in dict.fromkeys(removed) if topic in self._subscriptions],
            )

    async def _change(self, added: list[str], removed: list[str]) -> None:
        """Under ``_subscribing``: ``added`` (not followed yet) and ``removed`` (followed)."""
        for topic in removed:
            del self._subscriptions[topic]
        self._subscriptions.update(dict.fromkeys(added))
        self._stale = (self._stale | set(removed)) - set(added)
        client = self._client
        if client is None or not (added or removed):
            return
        try:
            await self._apply(client, added, removed)
        except aiomqtt.MqttError as error:
            log.warning("mqtt_subscribe_deferred", client_id=self.client_id, error=str(error))

    async def _apply(self, client: aiomqtt.Client, added: list[str], removed: list[str]) -> None:
        for start in range(0, len(added), SUBSCRIBE_BATCH):
            batch = added[start : start + SUBSCRIBE_BATCH]
            await client.subscribe([(topic, self._qos) for topic in batch])
            _keep_cancellation()
        for start in range(0, len(removed), SUBSCRIBE_BATCH):
            await client.unsubscribe(removed[start : start + SUBSCRIBE_BATCH])
            _keep_cancellation()
        self._stale -= set(removed)

    async def _consume(self, client: aiomqtt.Client) -> None:
        """Read and handle messages while a second task acknowledges them in order.

        Returns only by raising: aiomqtt ends the message stream when the connection is gone,
        and a failed publish means the same. Inputs still pending are then not acknowledged,
        so the broker redelivers them to the persistent session.
        """
        pending: asyncio.Queue[_Pending] = asyncio.Queue(MAX_PENDING_INPUTS)
        acking: list[_Pending] = []  # the entry the acker holds, so it is cleaned up too
        reader = asyncio.create_task(self._read(client, pending))
        acker = asyncio.create_task(self._ack_in_order(client, pending, acking))
        try:
            done, _ = await asyncio.wait({reader, acker}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise aiomqtt.MqttError("message stream ended")
        except asyncio.CancelledError:
            await _drain(reader, acker, pending)
            raise
        finally:
            for task in (reader, acker):
                task.cancel()
            while not pending.empty():
                acking.append(pending.get_nowait())
            for entry in acking:
                for send in entry.sends:
                    send.cancel()
            # Bounded: a child that lost its cancellation (see ``_publish``) must not hang us.
            children = {reader, acker, *(send for entry in acking for send in entry.sends)}
            await asyncio.wait(children, timeout=2)
            for child in children:
                if child.done() and not child.cancelled():
                    child.exception()  # retrieved: the error that matters is raised above

    async def _read(self, client: aiomqtt.Client, pending: asyncio.Queue[_Pending]) -> None:
        async for message in _messages(client):
            if self._steps_aside_for is not None:
                await self._steps_aside_for.none_running()
            payload = message.payload if isinstance(message.payload, bytes) else b""
            self._busy_since = time.monotonic()
            try:
                outgoing = await self._handle(message.topic.value, payload, message.retain)
            finally:
                self._busy_since = None
                self.handled += 1
            # Started now, in order (tasks run first-come), and awaited by the acker.
            sends = [asyncio.ensure_future(_publish(client, item)) for item in outgoing]
            await pending.put(_Pending(message, sends))

    async def _ack_in_order(
        self, client: aiomqtt.Client, pending: asyncio.Queue[_Pending], acking: list[_Pending]
    ) -> None:
        while True:
            entry = await pending.get()
            acking[:] = [entry]
            for send in entry.sends:
                await send
            acking.clear()
            if entry.message.qos > 0:
                client._client.ack(entry.message.mid, entry.message.qos)
            pending.task_done()

    async def _handle(self, topic: str, payload: bytes, retained: bool) -> Sequence[Outgoing]:
        """The handler's output, or a dead letter: never nothing while the message is acked.

        A transient failure (database or broker away) is retried until it succeeds or we
        are cancelled, and the message stays unacknowledged meanwhile, so a kill during the
        wait means redelivery. Any other failure is retried ``POISON_ATTEMPTS`` times, then
        the message is set aside as a dead letter, so one bad message cannot stop every
        home's messages behind it.
        """
        handler = self._on_retained if retained and self._on_retained else self._handler
        if handler is None:
            return ()
        delay, attempts, failures = RECONNECT_MIN_S, 0, 0
        first_failed_at: datetime | None = None
        while True:
            try:
                return await handler(topic, payload)
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
                return self.set_aside(topic, payload, error, first_failed_at, attempts)

    def set_aside(
        self,
        topic: str,
        payload: bytes,
        error: BaseException,
        first_failed_at: datetime,
        attempts: int,
    ) -> Sequence[Outgoing]:
        """The dead letter of a message whose handling failed for good, to publish (nothing
        for a dead letter itself). Called while handling ``error``: the log line carries its
        traceback. Public for handlers that finish a message's work after it was taken (the
        wall's updates, ``dashboards.service.UpdateFeed``)."""
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


@dataclass(frozen=True, slots=True)
class RetainedRead:
    messages: int
    seconds: float
    #: False when ``limit_s`` ended the read before a quiet period did.
    complete: bool


async def read_retained(
    settings: Settings,
    client_id: str,
    topic_filter: str,
    take: Callable[[str, bytes], None],
    *,
    quiet_s: float = RETAINED_QUIET_S,
    limit_s: float = RETAINED_LIMIT_S,
) -> RetainedRead:
    """Hand each retained ``(topic, payload)`` under ``topic_filter`` to ``take`` as it comes
    (nothing is held: 170 000 statuses would be ~50 MB). ``take`` must not raise; a broker
    that cannot be reached raises ``aiomqtt.MqttError``.

    MQTT has no "end of the retained messages" marker. A broker sends those matching a new
    subscription right after its SUBACK, as one burst (mosquitto queues them all at once),
    so the read ends when ``quiet_s`` pass without one, or at ``limit_s`` whatever still
    comes: bounded even at 170 000 topics. What it read is a lower bound, never proof that a
    topic holds nothing, so a caller must treat a topic it did not read as unknown: a read
    cut short then costs work, never correctness. Its own short session (clean, QoS 0: no
    PUBACK per message, nothing left queued on the broker), unsubscribed and closed at the
    end; messages published live meanwhile (no retain flag) are not the past, and skipped.
    """
    broker = settings.broker
    loop = asyncio.get_running_loop()
    give_up = loop.time() + limit_s
    count, complete = 0, False
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.username,
        password=broker.password,
        identifier=client_id,
        clean_session=True,
        timeout=limit_s,
    ) as client:
        try:
            async with asyncio.timeout_at(give_up) as quiet:
                await client.subscribe(topic_filter, qos=0)
                _keep_cancellation()
                quiet.reschedule(min(loop.time() + quiet_s, give_up))
                async for message in _messages(client):
                    if message.retain:
                        count += 1
                        take(message.topic.value, message.payload)  # type: ignore[arg-type]
                        quiet.reschedule(min(loop.time() + quiet_s, give_up))
        except TimeoutError:
            complete = loop.time() < give_up
        await client.unsubscribe(topic_filter)
        _keep_cancellation()
    return RetainedRead(count, limit_s - (give_up - loop.time()), complete)


async def _messages(client: aiomqtt.Client) -> AsyncIterator[aiomqtt.Message]:
    """``client.messages``, without a task and a wait per message while messages are queued.

    aiomqtt's iterator creates a task and waits on it and on the disconnection for every
    message, a few per cent of a busy service's CPU (issue 18). Queued messages are taken
    at once instead, with the loop free after each (so the other session, a lane, and the
    acknowledgements get their turn); only an empty queue, or a lost connection, is waited
    for aiomqtt's way, which ends the stream when the connection is gone.
    """
    queue = client._queue
    waiting = client.messages
    while True:
        if queue.empty() or client._disconnected.done():
            yield await anext(waiting)
        else:
            yield queue.get_nowait()
            await asyncio.sleep(0)


async def _drain(
    reader: asyncio.Task[None], acker: asyncio.Task[None], pending: asyncio.Queue[_Pending]
) -> None:
    """A clean stop: read nothing more, but let what was handled be confirmed and acknowledged.

    Otherwise every message handled in the last moments before a SIGTERM came back after the
    restart and was handled twice (a second dead letter, a second activity row). Bounded: a
    broker that went away meanwhile will not answer.
    """
    reader.cancel()
    await asyncio.wait({reader}, timeout=DRAIN_S)
    emptied = asyncio.ensure_future(pending.join())  # the acker marks each entry done
    await asyncio.wait({emptied, acker}, timeout=DRAIN_S, return_when=asyncio.FIRST_COMPLETED)
    emptied.cancel()


async def _publish(client: aiomqtt.Client, message: Outgoing) -> None:
    """Publish, and honour a cancellation that arrived meanwhile (``_keep_cancellation``)."""
    await client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
    _keep_cancellation()


def _keep_cancellation() -> None:
    """Call after each aiomqtt request (publish, subscribe, unsubscribe): raise the
    cancellation it lost, if any.

    On Python 3.11 aiomqtt's requests (``asyncio.wait_for`` inside) lose a cancellation that
    arrives as the broker's answer (PUBACK, SUBACK, UNSUBACK) does; the task still counts the
    request. A service would then go back to waiting (for the next message, for its next
    subscription change) and its shutdown would hang: it hung CI once in a publish, and a
    test stopping every service of a process in alerting's witness resubscribing.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]

"""The gateway service: raw device topics in, normalised or quarantined topics out.

Per message: first the sender's rate budget, from the topic alone (``gateway/ratelimit.py``:
one device's flood must not delay every other home's call button), then pick the adapter
(native contract, zigbee2mqtt, or a generic per-model JSON mapping), map the sender to a
registered home/device, check what the adapter made, drop redeliveries, feed liveness,
republish under ``_normalised``. Whatever fails goes to
``_quarantine`` with its reason and a per-device counter; nothing raises out of ``handle``.
On the clock, liveness deadlines turn silence into device and home status changes.

Statuses after a restart: before its main session's messages are handled (they wait; the
lane serves meanwhile), the gateway reads back its own retained device and home statuses
(``restore_statuses``), so a device heard from as it was before publishes nothing, and only
what changed goes out.
Without this every device's first message after a start published its status (and its
home's first device the home's): 1.4-1.6 statuses per message in a restarted gateway's first
minutes at 10 000 homes, each handled by the detector and the dashboard (issue 18).

Life-safety lane (DESIGN §8): the broker hands a session its messages in order, a few in
flight, so a call press queued behind one device's flood waits for the whole backlog however
cheaply the gateway drops the flood. A second session (``eldercare-gateway-lane``) therefore
subscribes to the event topics of the registered life-safety devices alone, following the
registry; ``handle_lane`` takes only their life-safety events from it. The main session
still receives every such message too, so nothing is lost while either session is away; the
shared duplicate window (home, device → seq, time) lets whichever copy comes first through
and drops the other. Accepted life-safety events are also published on
``{prefix}/_lifesafety/…`` for the detector's own lane.

The lane follows devices speaking our contract, and the presses of devices that number
nothing (zigbee2mqtt, generic mappings): the two copies of such a report are paired by its
bytes (``gateway/lane_copies.py``), and the lane takes only the life-safety events that
depend on nothing remembered (``_momentary``); the rest of the report (hazard states that
are events only when they change, battery, link) stays on the main session, in order.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare.bounded import LruDict, SeqWindow
from eldercare.bus import MqttConnection, Outgoing, Subscription, read_retained
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.metrics import connection_readings, export
from eldercare.models import (
    HAZARD_STATES,
    LIFE_SAFETY_EVENTS,
    BatteryHealth,
    DeviceState,
    DeviceStatus,
    Event,
    Metric,
    RegistrationNeeded,
    Telemetry,
)
from eldercare.quarantine import payload_head, quarantine
from eldercare.settings import Settings
from eldercare.topics import Channel, TopicError
from gateway.adapters import generic, zigbee2mqtt
from gateway.adapters.common import Adapted, ContractMessage, DeviceMemory
from gateway.adapters.generic import DeviceMappings
from gateway.impact_qos import ImpactQos
from gateway.lane_copies import LaneCopies, Session
from gateway.liveness import LivenessTracker
from gateway.metrics import gateway_readings
from gateway.ratelimit import Admission, DeviceRateLimiter, Excess
from gateway.registry import (
    APPLY_PART,
    DeviceInfo,
    DeviceRecord,
    Registry,
    RegistrySnapshot,
    drop_in_parts,
    in_parts,
)
from gateway.series import DeviceSeries, device_series
from gateway.validation import Rejected, check_message, check_size, parse_native

log = get_logger("gateway")

REGISTRY_REFRESH_S = 10.0
LANE_CLIENT_ID = "eldercare-gateway-lane"
#: The short session that reads the gateway's own retained statuses at start.
STATUS_READER_CLIENT_ID = "eldercare-gateway-statuses"
LIVENESS_TICK_S = 5.0
#: Unknown senders reported for registration; beyond this many, a flood is not worth memory.
MAX_UNKNOWN_REPORTED = 10_000
#: Devices whose reject count is kept (ids come from the network: most recent first).
MAX_REJECT_COUNTS = 100_000
DEVICE_CHANNELS = (Channel.EVENT, Channel.TELEMETRY, Channel.STATUS)
UNKNOWN_DEVICE = "unknown device"
RATE_LIMITED = "rate_limited"
#: The rate-limit kind of a sender the registry does not hold: nothing of it is accepted, so
#: its excess is dropped unread (a quarantine record per message would be a flood itself).
UNREGISTERED_KIND = "unregistered"
#: Homes named in a ``registry_changed`` log line (an import may change thousands).
LOGGED_HOMES = 20


class Gateway:
    """Decides per message; counts every reject by reason and by device."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        mappings: DeviceMappings | None = None,
        series: DeviceSeries | None = None,
    ) -> None:
        self.settings = settings
        self.series = series
        self.topics = settings.topics
        self.zigbee_base = settings.zigbee_base_topic
        self.clock = clock
        self.mappings = mappings or DeviceMappings()
        self.registry: RegistrySnapshot | None = None
        self.liveness = LivenessTracker(clock.now())
        self.memory: dict[tuple[str, str], DeviceMemory] = {}
        self.seq_window = SeqWindow()
        #: The same for devices that number nothing (zigbee2mqtt, mapped): ``lane_copies.py``.
        self.lane_copies = LaneCopies()
        self.accepted = 0
        self.duplicates = 0
        self.lane_accepted = 0  # life-safety events that came through the lane first
        self.replays_dropped = 0  # what retained reports said had happened (handle_retained)
        self.unregistered = 0
        self.quarantined: Counter[str] = Counter()
        self.quarantined_by_device: LruDict[tuple[str, str], int] = LruDict(MAX_REJECT_COUNTS)
        self.rate_limiter = DeviceRateLimiter(settings.device_rate_limits)
        self.impact_qos = ImpactQos()
        self._reported_unknown: set[str] = set()
        #: Each registered device's last published (state, battery): the first after a start
        #: is routine (one per device), a change after it is news for the operator's log.
        self._last_status: dict[tuple[str, str], tuple[DeviceState, BatteryHealth | None]] = {}
        #: The lane's topics (``lane_topics``), kept in step with the registry's changes.
        self._lane: set[str] = set()
        #: Retained statuses read at start (``restore_statuses``), by outcome.
        self.restored: Counter[str] = Counter()
        #: Reads of them that their time limit ended (``read_retained``'s ``complete``).
        self.reads_cut_short = 0
        #: Cleared while the retained statuses are read back: the main session's messages
        #: wait for them in ``handle`` (none dropped), and so do the liveness ticks; the
        #: lane's messages do not.
        self.statuses_read = asyncio.Event()
        self.statuses_read.set()

    def set_registry(self, snapshot: RegistrySnapshot) -> None:
        """Take a whole registry in one piece: at start, before any message is read.

        A running gateway follows changes with ``follow_registry`` instead."""
        self.registry = snapshot
        self.liveness.sync(snapshot, self.clock.now())
        self._lane = {topic for d in snapshot.devices.values() if (topic := self._lane_topic(d))}

    async def follow_registry(
        self, rows: Sequence[DeviceRecord], part: int = APPLY_PART
    ) -> tuple[list[str], list[str]]:
        """Apply a new read of the registry (``Registry.device_records``) from the changed
        devices alone, ``part`` at a time with messages handled in between; returns the
        topics the lane gains and those it loses (``MqttConnection.change_subscriptions``).

        The whole registry rebuilt with liveness and the lane's topics held the loop ~0.5 s
        at 10 000 homes (160 000 devices), and every message, call presses included, waited
        (issue 18). A lookup meanwhile sees the registry before the change until the new
        snapshot is swapped in whole (``RegistrySnapshot.patched``): a registered device is
        never unknown, a removed one is refused from the swap on. Liveness takes new devices
        before the swap, so a new device's first message finds its deadline.
        """
        if self.registry is None:
            self.set_registry(RegistrySnapshot.of(DeviceInfo(*row) for row in rows))
            return self.lane_topics(), []
        change = await self.registry.changes(rows, part)
        if not change:
            return [], []
        now = self.clock.now()
        async for some in in_parts(change.came, part):
            self.liveness.follow(some, now)
        self.registry = await self.registry.patched(change, part)
        async for some in in_parts(change.gone, part):
            self.liveness.forget(some)
        came = {topic for d in change.came if (topic := self._lane_topic(d))}
        left = {topic for d in change.gone + change.replaced if (topic := self._lane_topic(d))}
        gained, lost = sorted(came - self._lane), sorted(left - came)
        self._lane.difference_update(lost)
        self._lane.update(gained)
        log.info(
            "registry_changed",
            devices=len(self.registry.devices),
            added=len(change.came) - len(change.replaced),
            changed=len(change.replaced),
            removed=len(change.gone),
            homes=sorted({d.home for d in change.came + change.gone})[:LOGGED_HOMES],
        )
        return gained, lost

    # Restart ----------------------------------------------------------------------------
    async def restore_statuses(self, publish: Callable[[Outgoing], Awaitable[None]]) -> None:
        """Read back the statuses this gateway published before its restart (retained on
        the broker) into liveness, once the registry is set, then ``publish`` the home
        statuses the restored devices make and the broker lacks (``restored_homes``), and
        only then set ``statuses_read``: the main session's messages and the liveness ticks
        wait for it (the lane serves meanwhile), so none of their statuses goes out before
        those, which it would contradict. A device heard from as it was before publishes
        nothing.

        Bounded (``read_retained``, 60 s): a read cut short is logged and counted
        (``reads_cut_short``) and what it missed stays unknown, published on its first
        observation as without this; a broker that cannot be reached leaves everything
        unknown: the gateway then starts as before."""
        try:
            try:
                read = await read_retained(
                    self.settings,
                    STATUS_READER_CLIENT_ID,
                    self.topics.normalised_filter(Channel.STATUS),
                    self.restore_status,
                )
            except aiomqtt.MqttError as error:
                log.warning("statuses_not_restored", error=str(error))
                return
            homes = self.restored_homes()
            if not read.complete:
                self.reads_cut_short += 1
            emit = log.info if read.complete else log.warning
            emit(
                "statuses_restored",
                read=read.messages,
                seconds=round(read.seconds, 2),
                complete=read.complete,
                homes_published=len(homes),
                **self.restored,
            )
            for message in homes:
                await publish(message)
        finally:
            self.statuses_read.set()

    def restored_homes(self) -> list[Outgoing]:
        """After the statuses are restored: the home statuses their devices make where the
        broker's differ or are missing (``LivenessTracker.restored_homes``)."""
        now = self.clock.now()
        return [self._status_out(status) for status in self.liveness.restored_homes(now)]

    def restore_status(self, topic: str, payload: bytes) -> None:
        """One retained status: restored, or counted and left as it is (malformed, or not
        one liveness would publish there); never raises."""
        try:
            status = DeviceStatus.model_validate_json(payload)
            if topic != self.topics.normalised(status.home, status.device, Channel.STATUS):
                raise ValueError("the topic is not the status's own")
        except ValueError:  # pydantic's ValidationError is one
            self.restored["malformed"] += 1
            return
        if not self.liveness.restore(status):
            self.restored["ignored"] += 1
            return
        self.restored["restored"] += 1
        self._last_status[(status.home, status.device)] = (status.state, status.battery)

    def subscriptions(self) -> list[Subscription]:
        """What the main session reads: every home's raw device channels and zigbee2mqtt's
        bridge. (The lane's topics follow the registry: ``lane_topics``.)"""
        return [
            *(
                Subscription(self.topics.raw_device_filter(channel), self.handle)
                for channel in DEVICE_CHANNELS
            ),
            Subscription(f"{self.zigbee_base}/#", self.handle),
        ]

    # Messages -----------------------------------------------------------------------------
    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        await self._after_the_read()
        return self._route(topic, payload, replay=False)

    async def handle_retained(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """A retained report, replayed by the broker each time the gateway subscribes: the
        device's last word, not something that happened now. Its states count (a status, a
        zigbee2mqtt hazard already sounding, whose first sight is an alarm); what it says
        happened does not. zigbee2mqtt retains reports when an installer sets ``retain`` (a
        common Home Assistant setting): its last ``action`` would be a call nobody made, and
        its occupancy, stamped now, movement nobody made, on every gateway reconnect."""
        await self._after_the_read()
        return self._route(topic, payload, replay=True)

    async def _after_the_read(self) -> None:
        """The main session's messages wait for the retained statuses' read at start
        (``restore_statuses``); checked first, as nothing waits once it is done."""
        if not self.statuses_read.is_set():
            await self.statuses_read.wait()

    def _route(self, topic: str, payload: bytes, *, replay: bool) -> list[Outgoing]:
        if topic.startswith(self.zigbee_base + "/"):
            return self._zigbee(topic, payload, replay=replay)
        if self.topics.is_internal(topic):
            return []
        return self._native(topic, payload, replay=replay)

    def _replayed(self, adapted: Adapted) -> Adapted:
        """What of a retained report still holds now (``handle_retained``)."""
        kept = tuple(m for m in adapted.messages if _still_true(m))
        self.replays_dropped += len(adapted.messages) - len(kept)
        return replace(adapted, messages=kept)

    def _native(self, topic: str, payload: bytes, *, replay: bool = False) -> list[Outgoing]:
        now = self.clock.now()
        try:
            parsed = self.topics.parse_device(topic)
        except TopicError as error:
            return [self._quarantine(topic, payload, Rejected(f"topic: {error}"))]
        home, device_id = parsed.home, parsed.device
        if parsed.channel not in DEVICE_CHANNELS:
            reason = f"topic: devices may not publish on {parsed.channel}"
            return [self._quarantine(topic, payload, Rejected(reason, home, device_id))]
        device = self.registry.get(home, device_id) if self.registry else None
        admission = self._admit(home, device_id, device)
        if admission is Admission.DROP:
            return self._rate_limited(topic, payload, home, device_id)
        if self.registry is not None and device is None:
            report = self._registration(topic, payload, "native", home=home, device=device_id)
            reason = f"{UNKNOWN_DEVICE}: not in the registry"
            return [*report, self._quarantine(topic, payload, Rejected(reason, home, device_id))]
        mapping = self._mapping(device) if device else None
        if device is not None and mapping is not None:
            if too_big := check_size(payload, self.settings.max_payload_bytes):
                return [self._quarantine(topic, payload, Rejected(too_big, home, device_id))]
            adapted = generic.adapt_generic(mapping, device, payload, self._memory(device), now)
            if replay:
                adapted = self._replayed(adapted)
            else:
                adapted = self._unless_lane_took(device, payload, adapted)
            return self._publish_adapted(topic, payload, device, adapted, admission)
        message = parse_native(
            self.topics, topic, payload, max_bytes=self.settings.max_payload_bytes
        )
        if isinstance(message, Rejected):
            if admission is Admission.LIFE_SAFETY_ONLY:
                return self._rate_limited(topic, payload, home, device_id)
            return [self._quarantine(topic, payload, message)]
        if isinstance(message, DeviceStatus) and message.ts is None:
            message = message.model_copy(update={"ts": now})  # a last will carries no time
        seq = getattr(message, "seq", None)
        mark = (seq, message.ts)
        if seq is not None and not self.seq_window.first_time(home, device_id, mark):
            self.duplicates += 1
            log.debug("duplicate_dropped", home=home, device=device_id, seq=seq)
            return []
        if replay and not _still_true(message):
            self.replays_dropped += 1
            return []
        return self._accept(topic, payload, home, device_id, [message], [], admission)

    async def handle_lane(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """A life-safety device's event from the lane session: republished if it is a valid,
        life-safety event not seen yet; anything else is left to the main session, which
        receives the same message (and quarantines or counts it there, once)."""
        if self.registry is None or (device := self._reporting(topic)) is None:
            return []
        if device.zigbee_name or self._mapping(device):
            return self._paired_lane(topic, payload, device)
        message = parse_native(
            self.topics, topic, payload, max_bytes=self.settings.max_payload_bytes
        )
        if not isinstance(message, Event) or not _life_safety(message):
            return []
        home, device_id = message.home, message.device
        if check_message(message, self.clock.now()):
            return []
        if not self.seq_window.first_time(home, device_id, (message.seq, message.ts)):
            self.duplicates += 1
            return []
        self.lane_accepted += 1
        # Not charged to the device's rate budget: the main session's copy is.
        return self._accept(
            topic, payload, home, device_id, [message], [], Admission.LIFE_SAFETY_ONLY
        )

    def _reporting(self, topic: str) -> DeviceInfo | None:
        """The registered device whose report a lane topic carries."""
        assert self.registry is not None
        if topic.startswith(self.zigbee_base + "/"):
            parsed = zigbee2mqtt.parse_topic(self.zigbee_base, topic)
            if parsed is None or parsed.availability:
                return None
            return self.registry.by_zigbee_name.get(parsed.name)
        try:
            parsed_native = self.topics.parse_device(topic)
        except TopicError:
            return None
        return self.registry.get(parsed_native.home, parsed_native.device)

    def _paired_lane(self, topic: str, payload: bytes, device: DeviceInfo) -> list[Outgoing]:
        """A report of a device that numbers nothing (zigbee2mqtt, a generic mapping): its
        life-safety events that depend on nothing remembered (``_momentary``), if the main
        session has not taken them yet (``LaneCopies``); the rest of it is the main
        session's, in order with the device's other reports."""
        if check_size(payload, self.settings.max_payload_bytes):
            return []
        now = self.clock.now()
        adapted = self._momentary(device, payload, now)
        first = adapted.messages and self.lane_copies.first_copy(
            Session.LANE, device.home, device.id, payload, now
        )
        if not first:
            return []
        self.lane_accepted += 1
        # Not charged to the device's rate budget: the main session's copy is.
        adapted = replace(adapted, problems=())
        return self._publish_adapted(topic, payload, device, adapted, Admission.LIFE_SAFETY_ONLY)

    def _momentary(self, device: DeviceInfo, payload: bytes, now: datetime) -> Adapted:
        """The life-safety events of a report that depend on nothing remembered: a zigbee2mqtt
        press, a mapped ``on_change: false`` event. Only these may be taken out of order."""
        memory = self._memory(device)
        mapping = None if device.zigbee_name else self._mapping(device)
        if mapping is not None:
            adapted = generic.adapt_momentary(mapping, device, payload, memory, now)
        else:
            adapted = zigbee2mqtt.adapt_press(device, payload, memory, now)
        return replace(adapted, messages=tuple(m for m in adapted.messages if _life_safety(m)))

    def _mapping(self, device: DeviceInfo) -> generic.ModelMapping | None:
        return self.mappings.models.get(device.model or "")

    def lane_topics(self) -> list[str]:
        """The raw event topics of registered life-safety devices that speak our contract,
        and the report topics of those paired through zigbee2mqtt (their presses)."""
        return sorted(self._lane)

    def _on_lane(self, device: DeviceInfo) -> bool:
        return device.kind in self.settings.device_rate_limits.life_safety_kinds

    def _lane_topic(self, device: DeviceInfo) -> str | None:
        """The device's raw event topic if the lane reads it (``lane_topics``)."""
        if not self._on_lane(device):
            return None
        if device.zigbee_name:
            return f"{self.zigbee_base}/{device.zigbee_name}"
        mapping = self._mapping(device)
        if mapping is not None and not mapping.momentary(LIFE_SAFETY_EVENTS):
            return None
        try:
            return self.topics.device(device.home, device.id, Channel.EVENT)
        except TopicError:
            return None  # an id no device can publish under

    def _room(self, home: str, device: str) -> str | None:
        """The device's room as registered (the time series' room tag)."""
        info = self.registry.get(home, device) if self.registry else None
        return info.room if info else None

    def _zigbee(self, topic: str, payload: bytes, *, replay: bool = False) -> list[Outgoing]:
        now = self.clock.now()
        parsed = zigbee2mqtt.parse_topic(self.zigbee_base, topic)
        if parsed is None or self.registry is None:
            return []  # the bridge's own topics, commands, or no registry yet
        device = self.registry.by_zigbee_name.get(parsed.name)
        if device is None:
            # Zigbee networks hold lamps and plugs we do not care about: report, don't quarantine.
            self.unregistered += 1
            return self._registration(topic, payload, "zigbee2mqtt", zigbee_name=parsed.name)
        admission = self._admit(device.home, device.id, device)
        if admission is Admission.DROP:
            return self._rate_limited(topic, payload, device.home, device.id)
        if too_big := check_size(payload, self.settings.max_payload_bytes):
            return [self._quarantine(topic, payload, Rejected(too_big, device.home, device.id))]
        if parsed.availability:
            adapted = zigbee2mqtt.adapt_availability(device, payload, now)
            return self._publish_adapted(topic, payload, device, adapted, admission)
        adapted = zigbee2mqtt.adapt_state(device, payload, self._memory(device), now)
        if replay:
            return self._publish_adapted(topic, payload, device, self._replayed(adapted), admission)
        adapted = self._unless_lane_took(device, payload, adapted)
        statuses = self._bridge_seen(device, now)
        if not adapted.messages and not adapted.problems:
            # A report of fields we do not map (voltage, illuminance…) still proves life.
            statuses += self.liveness.seen(device.home, device.id, now)
        alive = [self._status_out(status) for status in statuses]
        return alive + self._publish_adapted(topic, payload, device, adapted, admission)

    def _bridge_seen(self, device: DeviceInfo, now: datetime) -> list[DeviceStatus]:
        """A report through a home's zigbee2mqtt proves its bridge alive: the bridge itself
        says nothing between its start and its last will (``zigbee2mqtt.BRIDGE``)."""
        assert self.registry is not None and device.zigbee_name
        for name in zigbee2mqtt.bridge_names(device.zigbee_name):
            bridge = self.registry.by_zigbee_name.get(name)
            if bridge is not None and bridge.home == device.home:
                return self.liveness.seen(bridge.home, bridge.id, now)
        return []

    def _unless_lane_took(self, device: DeviceInfo, payload: bytes, adapted: Adapted) -> Adapted:
        """The main session's reading of a report of a device that numbers nothing, less what
        the lane already took of it (``_paired_lane``): the rest of the report is still ours."""
        if not self._on_lane(device):
            return adapted
        now = self.clock.now()
        taken = self._momentary(device, payload, now).messages
        if not taken or self.lane_copies.first_copy(
            Session.MAIN, device.home, device.id, payload, now
        ):
            return adapted
        self.duplicates += 1
        kinds = {_what_happened(m) for m in taken} - {None}
        kept = tuple(m for m in adapted.messages if _what_happened(m) not in kinds)
        return replace(adapted, messages=kept)

    def _memory(self, device: DeviceInfo) -> DeviceMemory:
        return self.memory.get((device.home, device.id)) or DeviceMemory()

    def _publish_adapted(
        self,
        topic: str,
        payload: bytes,
        device: DeviceInfo,
        adapted: Adapted,
        admission: Admission,
    ) -> list[Outgoing]:
        if adapted.memory.seq or adapted.memory.values or adapted.memory.motion:
            self.memory[(device.home, device.id)] = adapted.memory
        return self._accept(
            topic,
            payload,
            device.home,
            device.id,
            adapted.messages,
            list(adapted.problems),
            admission,
        )

    def _accept(
        self,
        topic: str,
        payload: bytes,
        home: str,
        device: str,
        messages: Sequence[ContractMessage],
        problems: list[str],
        admission: Admission = Admission.PASS,
    ) -> list[Outgoing]:
        """Common checks on what an adapter made; publish the good, quarantine the rest."""
        if admission is Admission.LIFE_SAFETY_ONLY:
            # Over budget: only what may save a life goes on; the rest is the device's excess.
            messages = [m for m in messages if _life_safety(m)]
            if not messages:
                return self._rate_limited(topic, payload, home, device)
            problems = []
        now = self.clock.now()
        out: list[Outgoing] = []
        passed: list[ContractMessage] = []
        for message in messages:
            if problem := check_message(message, now):
                problems.append(problem)
            else:
                passed.append(message)
        for message in passed:
            self.accepted += 1
            if self.series and not isinstance(message, DeviceStatus):
                # Statuses are recorded as published.
                self.series.record(message, now, self._room(message.home, message.device))
            if isinstance(message, DeviceStatus):
                statuses = self.liveness.reported(message, now)
                if self.registry is None:
                    statuses = [message]  # no registry: pass the device's word through
                out += [self._status_out(status) for status in statuses]
                continue
            alive = self.liveness.seen(home, device, now)
            out += [self._status_out(status) for status in alive]
            is_telemetry = isinstance(message, Telemetry)
            if is_telemetry and message.metric is Metric.BATTERY and message.value is not None:
                battery = self.liveness.battery(home, device, message.value, now)
                out += [self._status_out(status) for status in battery]
            channel = Channel.TELEMETRY if is_telemetry else Channel.EVENT
            body = message.to_json()
            target = self.topics.normalised(message.home, message.device, channel)
            if isinstance(message, Telemetry):
                batches = self.impact_qos.batches(message, body)
                out += [Outgoing(target, batch, qos=qos) for batch, qos in batches]
            else:
                out.append(Outgoing(target, body, qos=1))
            if _life_safety(message):
                out.append(Outgoing(self.topics.life_safety(message.home, message.device), body))
        if problems:
            rejected = Rejected("; ".join(problems), home, device)
            out.append(self._quarantine(topic, payload, rejected))
        return out

    def _status_out(self, status: DeviceStatus) -> Outgoing:
        if self.series:
            self.series.record(status, self.clock.now(), self._room(status.home, status.device))
        key, now_is = (status.home, status.device), (status.state, status.battery)
        before = self._last_status.get(key)
        self._last_status[key] = now_is
        emit = log.debug if before in (None, now_is) else log.info
        emit(
            "device_status",
            home=status.home,
            device=status.device,
            state=str(status.state),
            battery=str(status.battery) if status.battery else None,
            reason=status.reason,
        )
        return Outgoing(
            self.topics.normalised(status.home, status.device, Channel.STATUS),
            status.to_json(),
            qos=1,
            retain=True,
        )

    def _registration(
        self,
        topic: str,
        payload: bytes,
        source: str,
        *,
        home: str | None = None,
        device: str | None = None,
        zigbee_name: str | None = None,
    ) -> list[Outgoing]:
        """Tell installers once per unknown sender, not once per message."""
        key = f"{source}:{zigbee_name or f'{home}/{device}'}"
        if key in self._reported_unknown or len(self._reported_unknown) >= MAX_UNKNOWN_REPORTED:
            return []
        self._reported_unknown.add(key)
        log.warning("registration_needed", home=home, device=device, zigbee_name=zigbee_name)
        report = RegistrationNeeded(
            topic=topic,
            source=source,  # type: ignore[arg-type]
            home=home,
            device=device,
            zigbee_name=zigbee_name,
            first_seen=self.clock.now(),
            payload_head=payload_head(payload),
        )
        return [Outgoing(self.topics.registration, report.to_json(), qos=1)]

    def _quarantine(self, topic: str, payload: bytes, rejected: Rejected) -> Outgoing:
        kind = rejected.reason.split(":", 1)[0]
        if self.series:
            self.series.record_rejected(
                rejected.reason, self.clock.now(), rejected.home, rejected.device
            )
        self.quarantined[kind] += 1
        rejects = None
        if rejected.home and rejected.device:
            key = (rejected.home, rejected.device)
            rejects = (self.quarantined_by_device.get(key) or 0) + 1
            self.quarantined_by_device[key] = rejects
        # An unregistered device already got its one registration_needed warning, a flooding
        # one its device_rate_limited warning.
        emit = log.debug if kind in (UNKNOWN_DEVICE, RATE_LIMITED) else log.warning
        emit(
            "payload_quarantined",
            home=rejected.home,
            device=rejected.device,
            topic=topic,
            reason=rejected.reason,
        )
        # The per-device rate limit keeps a garbage flood from turning into a record flood.
        return quarantine(
            self.topics,
            topic,
            payload,
            rejected.reason,
            self.clock.now(),
            home=rejected.home,
            device=rejected.device,
            device_rejects=rejects,
        )

    # Rate limits ----------------------------------------------------------------------------
    def _admit(self, home: str, device_id: str, device: DeviceInfo | None) -> Admission:
        """The per-device budget, from the topic and the registry alone: nothing parsed yet."""
        kind = device.kind if device else None if self.registry is None else UNREGISTERED_KIND
        return self.rate_limiter.admit(home, device_id, kind, self.clock.now().timestamp())

    def _rate_limited(self, topic: str, payload: bytes, home: str, device: str) -> list[Outgoing]:
        """Acknowledged and dropped; reported once per device per window, not per message."""
        excess = self.rate_limiter.drop(home, device, topic, self.clock.now().timestamp())
        return self._excess_out(excess, payload) if excess else []

    def _excess_out(self, excess: Excess, payload: bytes = b"") -> list[Outgoing]:
        """The summary: a quarantine record with the count, and the device flagged."""
        log.warning(
            "device_rate_limited",
            home=excess.home,
            device=excess.device,
            dropped=excess.count,
            dropped_total=excess.total,
            per_s=excess.rate.per_s,
            burst=excess.rate.burst,
        )
        rejected = Rejected(excess.reason, excess.home, excess.device)
        out = [self._quarantine(excess.topic, payload, rejected)]
        if self.registry is not None and self.registry.get(excess.home, excess.device):
            # Retained on the device's status topic, where device health is shown: the device
            # is alive (it floods), and the reason says what is wrong with it.
            flag = DeviceStatus(
                home=excess.home,
                device=excess.device,
                state=DeviceState.ONLINE,
                ts=self.clock.now(),
                reason=excess.reason[:200],
            )
            out.append(self._status_out(flag))
        return out

    # Clock ----------------------------------------------------------------------------------
    def tick(self) -> list[Outgoing]:
        """Liveness deadlines and battery ages, evaluated at the clock's now; the tails of
        floods whose summary window has passed."""
        return [message for part in self.tick_in_parts() for message in part]

    def tick_in_parts(self) -> Iterator[list[Outgoing]]:
        """``tick``, a few thousand devices at a time (``LivenessTracker.check_in_parts``)."""
        now = self.clock.now()
        for statuses in self.liveness.check_in_parts(now):
            yield [self._status_out(status) for status in statuses]
        out: list[Outgoing] = []
        for excess in self.rate_limiter.due(now.timestamp()):
            out += self._excess_out(excess)
        yield out

    async def watch_liveness(self, publish: Callable[[Outgoing], Awaitable[None]]) -> None:
        """Ticks, letting messages (a call press in the lane) through between the parts.

        Started with the service, before the retained statuses are read: the clock runs
        from the start, and a tick due during the read waits for it (``statuses_read``), as
        its deadlines compare against what the read restores."""
        while True:
            await self.clock.sleep(LIVENESS_TICK_S)
            await self.statuses_read.wait()
            for part in self.tick_in_parts():
                for message in part:
                    await publish(message)
                await asyncio.sleep(0)

    async def refresh_registry(
        self, registry: Registry, lane: MqttConnection | None = None, seen: int | None = None
    ) -> None:
        """Follow the registry every ``REGISTRY_REFRESH_S``, so newly registered devices are
        let in and removed ones refused, and keep the lane's subscriptions in step with its
        life-safety devices. The first read is ``run``'s, before any message, at version
        ``seen`` (``None``: the first refresh reads every device).

        Polled, not notified: the registry is written by other processes (the CLI, the REST
        API) without a channel to the gateway. Each interval reads the registry's version
        alone, and the devices only when it moved: every device read every 10 s cost ~0.5 s
        of CPU (0.2 s on the loop's thread) at 10 000 homes with nothing changed (issue 18,
        ``benchmarks/registry_change.py``). The version is read before the devices, so a
        write between the two is in the rows or moves the version again. The devices are
        read in parts and applied from what changed (``follow_registry``).
        """
        while True:
            await self.clock.sleep(REGISTRY_REFRESH_S)
            try:
                version = await registry.version()
                if version is not None and version == seen:
                    continue
                rows = await registry.device_records()
                gained, lost = await self.follow_registry(rows)
                seen = version
                await drop_in_parts(rows)
                if lane is not None and (gained or lost):
                    await lane.change_subscriptions(gained, lost)
            except Exception:
                log.exception("registry_refresh_failed")


def _life_safety(message: ContractMessage) -> bool:
    return isinstance(message, Event) and message.type in LIFE_SAFETY_EVENTS


def _what_happened(message: ContractMessage) -> tuple[object, ...] | None:
    """An event's type and value, which the two sessions' readings of one report share
    (their ``seq`` and time need not); None for anything else."""
    if not isinstance(message, Event):
        return None
    return (message.type, tuple(sorted(message.value.items())))


def _still_true(message: ContractMessage) -> bool:
    """A state, which a replayed report still tells: a status, or a hazard's alarm (or its
    end), rather than something that happened once."""
    return isinstance(message, DeviceStatus) or (
        isinstance(message, Event) and message.type in HAZARD_STATES
    )


async def _not_news(topic: str, payload: bytes) -> Sequence[Outgoing]:
    return ()


def load_mappings(path: Path | None) -> DeviceMappings:
    return DeviceMappings.load(path) if path else DeviceMappings()


async def run(settings: Settings, clock: Clock, engine: AsyncEngine) -> None:
    registry = Registry(engine, clock)
    series = device_series(settings, clock)
    gateway = Gateway(settings, clock, load_mappings(settings.device_mappings), series)
    seen, snapshot = await registry.versioned_snapshot()
    gateway.set_registry(snapshot)
    connection = MqttConnection.serving(
        settings, "eldercare-gateway", gateway.subscriptions(), on_retained=gateway.handle_retained
    )
    lane = MqttConnection(
        settings,
        LANE_CLIENT_ID,
        gateway.lane_topics(),
        gateway.handle_lane,
        on_retained=_not_news,  # the main session takes what a retained report still says
    )
    log.info("gateway_started", devices=len(gateway.registry.devices if gateway.registry else ()))
    async with asyncio.TaskGroup() as group:
        # A call press is not held up by the read (~16 s for 170 000 statuses on this loaded
        # 2-core VM): the lane serves meanwhile, and what it observes wins over the read. The
        # main session subscribes at once and its messages (retained reports too) wait in
        # ``handle`` for the read:
        # subscribed only after it, the pendants' QoS 0 batches of those seconds were dropped
        # by the broker (a fall then went unseen). The clock's work and the metrics start at
        # once too; the ticks wait for the read themselves.
        gateway.statuses_read.clear()
        group.create_task(lane.run())
        group.create_task(connection.run())
        group.create_task(
            export(
                connection_readings(connection),
                connection_readings(lane),
                gateway_readings(gateway),
            )
        )
        group.create_task(gateway.refresh_registry(registry, lane, seen))
        group.create_task(gateway.watch_liveness(connection.publish))
        if gateway.series:
            group.create_task(gateway.series.run())
        await gateway.restore_statuses(connection.publish)

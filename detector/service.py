"""The detector service: normalised device messages in, alerts out (QoS 1).

Every message is offered to every rule; a tick on the clock lets rules fire on silence.
Alert updates come in too: a resolve carries the staff's verdict, which rules learn from.

Life-safety lane (DESIGN §8): the main session's queue holds every home's ordinary traffic
(motion, doors, accelerometer batches), and the broker hands it over in order, so a backlog
there delays a call press behind it. The gateway publishes each life-safety event a second
time on ``{prefix}/_lifesafety/…``, read by a second session (``eldercare-detector-lane``).
Rules see each event once: a window of (home, device → seq, time) shared by both sessions
lets the first copy through and drops the other, and either session alone still delivers it.

Replicas (``ELDERCARE_REPLICAS``, docs/scale-out.md): each instance owns shards through
leases in the database and runs, per owned shard, a ``Detector`` of its own with its two
sessions under per-shard client ids (``eldercare-detector-shard-07``), so the next owner of
a shard connects under the same ids and receives what the broker queued meanwhile; the
shard's rule state is checkpointed to the database instead of the local file.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from detector.activity.registry import (
    RegistryView,
    SharedRegistry,
    apply_registry_in_parts,
)
from detector.activity.routines import apply_routines, load_routines
from detector.activity.rule import InactivityRule
from detector.call_button import CallButtonRule
from detector.checkpoint import (
    Partitionable,
    ShardCheckpoints,
    StateFile,
    must_save_now,
    one_at_a_time,
    seconds_to_next_tick,
    urgent_saves,
)
from detector.device_health import DeviceHealthRule
from detector.falls.rule import FallRule
from detector.hazards import HazardRule
from detector.metrics import ShardTotals, detector_readings
from detector.rules import NoSeries, PointSink, Rule, RuleOutput, TicksInParts
from detector.wellbeing import WellbeingRule
from eldercare.bounded import SeqWindow
from eldercare.bus import MqttConnection, Outgoing, Subscription
from eldercare.clock import Clock
from eldercare.failures import is_transient, until_the_database_answers
from eldercare.logs import get_logger
from eldercare.metrics import connection_readings, export
from eldercare.models import (
    LIFE_SAFETY_EVENTS,
    AlertStatus,
    AlertUpdate,
    DeviceStatus,
    Event,
    Telemetry,
)
from eldercare.settings import Settings
from eldercare.shard_leases import ShardLeases, serve_shards
from eldercare.timeseries import SeriesWriter, series_writer
from eldercare.topics import Channel, TopicError, Topics, shard_client_id, shard_of

log = get_logger("detector")

TICK_S = 10.0
CHECKPOINT_S = 60.0
REGISTRY_REFRESH_S = 60.0
STATE_FILE = "detector-state.json"
CLIENT_ID = "eldercare-detector"
LANE_CLIENT_ID = "eldercare-detector-lane"


def default_rules() -> list[Rule]:
    inactivity = InactivityRule()
    return [
        CallButtonRule(),
        FallRule(beds=inactivity),  # a suspicion while the bed mat says "in bed" is no fall
        inactivity,
        WellbeingRule(inactivity),  # after it: it reads what inactivity made of each event
        HazardRule(),
        DeviceHealthRule(),
    ]


class Detector:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        rules: Sequence[Rule] | None = None,
        series: PointSink | None = None,
        shard: int | None = None,
    ) -> None:
        self.topics: Topics = settings.topics
        #: The one shard this detector serves (replicas), or None: every home.
        self.shard = shard
        self.clock = clock
        self.rules = list(default_rules() if rules is None else rules)
        self.series = series or NoSeries()
        self.invalid = 0
        #: rule name -> failures so far (bounded: one entry per configured rule)
        self.rule_failures: dict[str, int] = {}
        #: alert kind -> alerts raised (bounded by the kinds the contract knows)
        self.alerts_raised: Counter[str] = Counter()
        #: Life-safety events already offered to the rules, from either session.
        self.life_safety_seen = SeqWindow()
        self.lane_copies = 0  # second copies of a life-safety event, dropped
        #: Normalised device messages by channel (main session): what the bench checks
        #: against what it published, so a lost message shows.
        self.received: Counter[Channel] = Counter()
        #: Saves the checkpoint (the service's own ``save``, taken in turn): awaited before a
        #: message that opened a short timer is acknowledged. None: nothing is saved here.
        self.persist: Callable[[], Awaitable[object]] | None = None

    def subscriptions(self) -> list[Subscription]:
        """What the main session reads: the gateway's checked device messages and the
        staff's verdicts (QoS 1, kept while we are down)."""
        return [
            *(
                Subscription(self.topics.normalised_filter(channel, self.shard), self.handle)
                for channel in Channel
                if channel is not Channel.CMD
            ),
            Subscription(self.topics.all_updates_filter, self.handle),
        ]

    def lane_subscriptions(self) -> list[Subscription]:
        """What the lane session reads: the life-safety events' second copies."""
        return [Subscription(self.topics.life_safety_shard_filter(self.shard), self.handle_lane)]

    @property
    def rule_names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    def serves(self, home: str) -> bool:
        """Whether this detector holds the home's state (its shard's, or all of them)."""
        return self.shard is None or shard_of(home, self.topics.shard_count) == self.shard

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        now = self.clock.now()
        message: Event | Telemetry | DeviceStatus | AlertUpdate
        try:
            if self.topics.is_alert_update(topic):
                # Staff's verdicts: only a resolve with an outcome teaches the rules anything.
                message = AlertUpdate.model_validate_json(payload)
                if message.status is not AlertStatus.RESOLVED or message.outcome is None:
                    return []
                if not self.serves(message.home):  # every shard's session sees every verdict
                    return []
            else:
                channel = self.topics.parse_device(topic).channel
                self.received[channel] += 1
                if channel is Channel.EVENT:
                    message = Event.model_validate_json(payload)
                elif channel is Channel.TELEMETRY:
                    message = Telemetry.model_validate_json(payload)
                elif channel is Channel.STATUS:
                    message = DeviceStatus.model_validate_json(payload)
                else:
                    return []
        except (ValidationError, TopicError) as error:
            # The gateway validated this already; a failure here means a contract drift.
            self.invalid += 1
            log.error("normalised_message_invalid", topic=topic, error=str(error))
            return []
        return await self._decide_and_keep(message, now)

    async def handle_lane(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """A life-safety event's copy from the lane (``{prefix}/_lifesafety/…``)."""
        try:
            event = Event.model_validate_json(payload)
        except ValidationError as error:
            self.invalid += 1
            log.error("normalised_message_invalid", topic=topic, error=str(error))
            return []
        if event.type not in LIFE_SAFETY_EVENTS:
            return []  # only the gateway writes here; the main session has it anyway
        return await self._decide_and_keep(event, self.clock.now())

    async def _decide_and_keep(
        self, message: Event | Telemetry | DeviceStatus | AlertUpdate, now: datetime
    ) -> Sequence[Outgoing]:
        """``_decide``, and a message that made an urgent change (a fall's confirmation
        window opened, an impact's provisional suspicion) saved before it is acknowledged:
        the suspicion then lives only in this state, and neither the acknowledged event nor
        the telemetry (QoS 0) that showed it is sent again, so a crash before the next
        tick's save would lose the fall."""
        before = urgent_saves(self.rules)
        outgoing = self._decide(message, now)
        if self.persist is not None and urgent_saves(self.rules) > before:
            await self.persist()
        return outgoing

    def _decide(
        self, message: Event | Telemetry | DeviceStatus | AlertUpdate, now: datetime
    ) -> Sequence[Outgoing]:
        if isinstance(message, Event) and message.type in LIFE_SAFETY_EVENTS:
            mark = (message.seq, message.ts)
            if not self.life_safety_seen.first_time(message.home, message.device, mark):
                self.lane_copies += 1
                return []
        output = RuleOutput()
        for rule in self.rules:
            output.extend(self._offer(rule, message, now))
        return self._emit(output)

    def tick(self) -> Sequence[Outgoing]:
        now = self.clock.now()
        output = RuleOutput()
        for rule in self.rules:
            output.extend(self._offer(rule, None, now))
        return self._emit(output)

    async def tick_in_parts(self) -> AsyncIterator[list[Outgoing]]:
        """``tick()`` as the service runs it, its outputs a part at a time: a rule that walks
        every home does so in parts (``TicksInParts``), the loop serving messages after
        each; at 10 000 homes a walk in one piece held the loop for 0.3-0.5 s every minute
        (issue 18). Publish each part before asking for the next: an alert raised in a part
        then reaches the broker ahead of anything a message handled after it says about
        the same condition (a device back online clearing its ``device_offline``)."""
        now = self.clock.now()
        for rule in self.rules:
            if not isinstance(rule, TicksInParts):
                yield self._emit(self._offer(rule, None, now))
                continue
            parts = rule.tick_in_parts(now)
            while True:
                try:
                    part = next(parts)
                except StopIteration:
                    break
                except Exception:
                    self._failed(rule, None)
                    break
                yield self._emit(part)
                await asyncio.sleep(0)

    def _offer(
        self,
        rule: Rule,
        message: Event | Telemetry | DeviceStatus | AlertUpdate | None,
        now: datetime,
    ) -> RuleOutput:
        """One rule's verdict, or nothing if it fails.

        Rules are isolated: a bug in one (say inactivity) must not throw away the call-button
        alert another rule already made from the same message. The failure is counted and
        logged with the ids; the message is still acknowledged, since replaying it would only
        hit the same bug again and hold up every home behind it.
        """
        try:
            if message is None:
                return rule.on_tick(now)
            if isinstance(message, Event):
                return rule.on_event(message, now)
            if isinstance(message, Telemetry):
                return rule.on_telemetry(message, now)
            if isinstance(message, AlertUpdate):
                return rule.on_verdict(message, now)
            return rule.on_status(message, now)
        except Exception:
            self._failed(rule, message)
            return RuleOutput()

    def _failed(
        self, rule: Rule, message: Event | Telemetry | DeviceStatus | AlertUpdate | None
    ) -> None:
        """Counted and logged with the ids (call it from the ``except`` that caught it)."""
        self.rule_failures[rule.name] = self.rule_failures.get(rule.name, 0) + 1
        log.exception(
            "rule_failed",
            rule=rule.name,
            home=getattr(message, "home", None),
            device=getattr(message, "device", None),
            alert_id=getattr(message, "alert_id", None),
            failures=self.rule_failures[rule.name],
        )

    def _emit(self, output: RuleOutput) -> list[Outgoing]:
        if output.points:
            self.series.write(output.points)
        for alert in output.alerts:
            self.alerts_raised[alert.kind] += 1
            log.info(
                "alert_raised",
                alert_id=alert.alert_id,
                home=alert.home,
                kind=alert.kind,
                severity=alert.severity,
                devices=[item.device for item in alert.evidence],
            )
        for cleared in output.cleared:
            log.info(
                "condition_cleared",
                home=cleared.home,
                kind=cleared.cleared,
                devices=cleared.devices,
                reason=cleared.reason,
            )
        return [
            *(
                Outgoing(self.topics.home_alerts(message.home), message.to_json(), qos=1)
                for message in (*output.alerts, *output.cleared)
            ),
            *(
                Outgoing(self.topics.daily_summary(day.home), day.to_json(), qos=1)
                for day in output.summaries
            ),
        ]


async def tick_loop(
    detector: Detector,
    connection: MqttConnection,
    clock: Clock,
    save: Callable[[], Awaitable[object]],
) -> None:
    """Ticks (rules fire on silence), their alerts published, and checkpoints: at intervals,
    right after any alert, and every tick while a short timer runs."""
    since_checkpoint = 0.0
    while True:
        wait = seconds_to_next_tick(detector.rules, clock.now(), TICK_S)
        await clock.sleep(wait)
        published = False
        async for part in detector.tick_in_parts():
            for message in part:
                await connection.publish(message)
                published = True
        since_checkpoint += wait
        if published or since_checkpoint >= CHECKPOINT_S or must_save_now(detector.rules):
            # After publishing: a crash in between re-raises the same alert (same id,
            # which alerting deduplicates) rather than losing it.
            await save()
            since_checkpoint = 0.0


async def registry_loop(
    settings: Settings,
    read: Callable[[], Awaitable[RegistryView]] | None,
    detector: Detector,
    clock: Clock,
) -> None:
    """Device kinds, rooms, home time zones and modes, and the families' routines for the
    inactivity rule (only the homes this detector serves); ``read`` gets the registry
    (``SharedRegistry.get``: the same view while the registry's version stays, and then only
    the home modes, which end with the clock, are applied again)."""
    watchers = [rule for rule in detector.rules if isinstance(rule, InactivityRule)]
    applied: set[str] = set()  # homes whose routine came from a file last time
    last: RegistryView | None = None  # the view applied last time, whole
    while read is not None and watchers:
        try:
            routines = load_routines(settings.routines_dir) if settings.routines_dir else {}
            routines = {home: r for home, r in routines.items() if detector.serves(home)}
            view = await read()
            for rule in watchers:
                await apply_registry_in_parts(
                    view, rule, clock.now(), keep=detector.serves, modes_only=view is last
                )
                apply_routines(rule, routines, applied)
            applied, last = set(routines), view
        except Exception:
            log.exception("registry_sync_failed", shard=detector.shard)
        await clock.sleep(REGISTRY_REFRESH_S)


async def run(
    settings: Settings,
    clock: Clock,
    rules: Sequence[Rule] | None = None,
    engine: AsyncEngine | None = None,
) -> None:
    if settings.replicas and engine is not None:
        return await run_replica(settings, clock, engine)
    series = series_writer(settings, "detector", clock)
    detector = Detector(settings, clock, rules, series=series)
    connection = MqttConnection.serving(settings, CLIENT_ID, detector.subscriptions())
    lane = MqttConnection.serving(settings, LANE_CLIENT_ID, detector.lane_subscriptions())

    state = StateFile(settings.data_dir / STATE_FILE)
    state.load(detector.rules)

    @one_at_a_time
    async def save() -> None:
        await state.save_in_parts(detector.rules)

    detector.persist = save

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(connection.run())
            group.create_task(lane.run())
            group.create_task(
                export(
                    connection_readings(connection),
                    connection_readings(lane),
                    detector_readings(detector, series),
                )
            )
            group.create_task(tick_loop(detector, connection, clock, save))
            read = None if engine is None else SharedRegistry(engine, clock, REGISTRY_REFRESH_S).get
            group.create_task(registry_loop(settings, read, detector, clock))
            if series:
                group.create_task(series.run())
    finally:
        state.save(detector.rules)


async def run_replica(settings: Settings, clock: Clock, engine: AsyncEngine) -> None:
    """One of several detector instances: serve the shards whose leases this one holds."""
    owner = settings.instance_name()
    leases = ShardLeases(
        engine,
        clock,
        scope="detector",
        owner=owner,
        shard_count=settings.shard_count,
        ttl=timedelta(seconds=settings.lease_ttl_s),
    )
    checkpoints = ShardCheckpoints(engine, owner)
    await import_state_file(settings, clock, checkpoints)
    registry = SharedRegistry(
        engine, clock, REGISTRY_REFRESH_S, settings.shard_count, lambda: leases.owned
    )
    series = series_writer(settings, "detector", clock)
    totals = ShardTotals()
    log.info("detector_replica_started", owner=owner, shards=settings.shard_count)

    async def worker(shard: int) -> None:
        await serve_shard(settings, clock, registry, shard, checkpoints, series, totals)

    async with asyncio.TaskGroup() as group:
        group.create_task(export(detector_readings(totals, series)))
        if series:
            group.create_task(series.run())
        group.create_task(serve_shards(leases, worker))


async def import_state_file(
    settings: Settings, clock: Clock, checkpoints: ShardCheckpoints
) -> None:
    """Once, when a deployment switches to replicas: the single instance's state file is
    split by shard into the database (a shard that has state there already keeps it), then
    renamed, so the homes keep their learnt routines and running timers."""
    path = settings.data_dir / STATE_FILE
    if not path.exists():
        return
    imported = []
    for shard in range(settings.shard_count):
        detector = Detector(settings, clock, shard=shard)
        if not StateFile(path).load(detector.rules):
            return  # unreadable: logged, left in place for a person to look at
        for rule in detector.rules:
            if isinstance(rule, Partitionable):
                rule.retain(detector.serves)
        if await checkpoints.import_once(shard, detector.rules, clock.now()):
            imported.append(shard)
    with contextlib.suppress(FileNotFoundError):  # another replica was quicker
        path.rename(path.with_suffix(".imported"))
    log.info("state_file_imported", path=str(path), shards=imported)


async def serve_shard(
    settings: Settings,
    clock: Clock,
    registry: SharedRegistry,
    shard: int,
    checkpoints: ShardCheckpoints,
    series: SeriesWriter | None,
    totals: ShardTotals,
) -> None:
    """One owned shard until cancelled: its state restored from the database, its two
    persistent sessions, its ticks and checkpoints. Cancelled (lease lost or handed over),
    its sessions stop without acknowledging what was not handled, and its state is saved
    (refused if the shard is someone else's by now)."""
    detector = Detector(settings, clock, series=series, shard=shard)
    await until_the_database_answers(
        lambda: checkpoints.load(shard, detector.rules), "checkpoint_load_retrying", shard=shard
    )
    totals.serving(shard, detector)
    connection = MqttConnection.serving(
        settings, shard_client_id(CLIENT_ID, shard), detector.subscriptions()
    )
    lane = MqttConnection.serving(
        settings, shard_client_id(LANE_CLIENT_ID, shard), detector.lane_subscriptions()
    )

    @one_at_a_time
    async def save() -> bool:
        """A database outage is waited out by the next save, not by stopping the shard."""
        try:
            return await checkpoints.save(shard, detector.rules, clock.now())
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("checkpoint_save_failed", shard=shard, error=str(error))
            return False

    detector.persist = save
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(connection.run())
            group.create_task(lane.run())
            group.create_task(export(connection_readings(connection), connection_readings(lane)))
            group.create_task(tick_loop(detector, connection, clock, save))
            read = functools.partial(registry.get, shard)
            group.create_task(registry_loop(settings, read, detector, clock))
    finally:
        totals.retire(shard)
        await save()

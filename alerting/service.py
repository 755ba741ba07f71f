"""The alerting service: alerts from MQTT into the store, escalation and notifications out,
lifecycle updates and resident confirmations back onto the bus.

Replicas (``ELDERCARE_REPLICAS``, docs/scale-out.md): one instance at a time is active,
the one that holds the single ``alerting`` lease in the database; the others wait for it.
The active one reads under the fixed client id ``eldercare-alerting``, so when it dies the
next one to take the lease takes over its persistent session and every alert queued there.
Two instances therefore never store, escalate or notify side by side; escalation timers and
the outbox would be safe anyway (leased rows, ``alerting/leases.py``).

Life-safety lane: the main session stores alerts one at a time, in order, so a call-button
alert that arrives behind a burst (the first tick after a detector start can raise a
``no_wake_up`` for hundreds of homes) waited for all of them: seconds (issue 18). A second
persistent session (``eldercare-alerting-lane``) reads the same alert topics and stores only
the life-safety kinds, at once; the main session's copy of such an alert then finds it
stored and does nothing. Every store takes one lock, so the two never store side by side
(the same as one session). These kinds are never cleared by a ``ConditionCleared``, so the
lane moving one ahead of the home's other messages cannot reorder a raise and its clear.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting import leases
from alerting.api import AlertingApi, AlertNotFound
from alerting.channels import AppriseNotifier, Notifier
from alerting.escalation import Escalator, instance_owner
from alerting.feedback import commands
from alerting.loop import work_loop
from alerting.metrics import alerting_readings
from alerting.outbox import Outbox
from alerting.stalls import watched_sessions
from alerting.watch import ServiceWatch
from eldercare.bus import MqttConnection, Outgoing, Subscription
from eldercare.clock import Clock
from eldercare.failures import until_the_database_answers
from eldercare.logs import get_logger
from eldercare.metrics import connection_readings, export
from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertUpdate,
    CommandKind,
    ConditionCleared,
    DailySummary,
    DeadLetter,
)
from eldercare.quarantine import quarantine
from eldercare.settings import Settings
from eldercare.shard_leases import ShardLeases, serve_shards

log = get_logger("alerting")

CLIENT_ID = "eldercare-alerting"
LANE_CLIENT_ID = "eldercare-alerting-lane"
#: What the lane stores ahead of the queue: someone may be hurt or in danger now.
LANE_KINDS = frozenset(
    {AlertKind.CALL_BUTTON, AlertKind.FALL, AlertKind.SMOKE, AlertKind.GAS, AlertKind.WATER_LEAK}
)


class AlertIntake:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        api: AlertingApi,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self.topics = settings.topics
        self.clock = clock
        self.api = api
        self.on_stored = on_stored
        self.rejected = 0
        self._storing = asyncio.Lock()  # the main session and the lane store one at a time

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            alert = Alert.model_validate_json(payload)
        except ValidationError as error:
            with contextlib.suppress(ValidationError):
                return await self._cleared(ConditionCleared.model_validate_json(payload))
            self.rejected += 1
            log.error("alert_rejected", topic=topic, reason=str(error.errors()[0]["msg"]))
            reason = f"alert schema: {error.errors()[0]['msg']}"
            # the home named in the topic: whose alert it was, for operators
            home = self.topics.alerts_home(topic)
            return [quarantine(self.topics, topic, payload, reason, self.clock.now(), home=home)]
        return await self._take(alert)

    async def handle_lane(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """The lane's copy: life-safety alerts stored at once, anything else left to the main
        session (which also rejects what does not parse)."""
        try:
            alert = Alert.model_validate_json(payload)
        except ValidationError:
            return []
        if alert.kind not in LANE_KINDS:
            return []
        return await self._take(alert)

    async def _take(self, alert: Alert) -> Sequence[Outgoing]:
        # Storing (with the escalation plan) happens before the broker gets its PUBACK, so an
        # alert is either in the database or still queued in our persistent session.
        async with self._storing:
            update = await self._store(alert)
        if update is None:
            log.info("alert_redelivered", alert_id=alert.alert_id, home=alert.home)
            return []
        self.on_stored()
        log.info(
            "alert_stored" if update.alert_id == alert.alert_id else "alert_trigger_attached",
            alert_id=update.alert_id,
            home=alert.home,
            kind=alert.kind,
            status=update.status,
        )
        received = commands(
            self.topics,
            home=alert.home,
            devices=[item.device for item in alert.evidence],
            kind=alert.kind,
            command=CommandKind.ALERT_RECEIVED,
            alert_id=update.alert_id,
            at=self.clock.now(),
        )
        return [
            *received,
            Outgoing(self.topics.alert_updates(update.alert_id), update.to_json(), qos=1),
        ]

    async def _cleared(self, cleared: ConditionCleared) -> Sequence[Outgoing]:
        """A condition ended by itself: its open alert is resolved as recovered."""
        async with self._storing:
            update = await until_the_database_answers(
                lambda: self.api.resolve_recovered(
                    cleared.home, cleared.cleared, actor="detector", reason=cleared.reason
                ),
                "alert_store_failed_retrying",
                home=cleared.home,
            )
        log.info(
            "condition_cleared",
            home=cleared.home,
            kind=cleared.cleared,
            devices=cleared.devices,
            alert_id=update.alert_id if update else None,
            reason=cleared.reason,
        )
        if update is None:
            return []
        return [Outgoing(self.topics.alert_updates(update.alert_id), update.to_json(), qos=1)]

    async def _store(self, alert: Alert) -> AlertUpdate | None:
        """Store, waiting out a database outage: nothing behind this alert can be stored
        either, so holding the queue costs nothing."""
        return await until_the_database_answers(
            lambda: self.api.record(alert),
            "alert_store_failed_retrying",
            alert_id=alert.alert_id,
            home=alert.home,
        )


class AckFeedback:
    """Acknowledgements may come from any dashboard or link; they all pass over MQTT, and
    this turns each into ``help_coming`` for the resident's terminal."""

    def __init__(
        self, settings: Settings, api: AlertingApi, on_ack: Callable[[], None] = lambda: None
    ) -> None:
        self.topics = settings.topics
        self.api = api
        self.on_ack = on_ack  # the outbox has "taken" notices to send now

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            update = AlertUpdate.model_validate_json(payload)
            if update.status is not AlertStatus.ACKNOWLEDGED:
                return []
            alert = await self.api.get(update.alert_id)
        except (ValidationError, AlertNotFound) as error:
            log.warning("update_unusable", topic=topic, error=str(error))
            return []
        self.on_ack()
        return commands(
            self.topics,
            home=alert.home,
            devices=[str(item["device"]) for item in alert.evidence],
            kind=alert.kind,
            command=CommandKind.HELP_COMING,
            alert_id=alert.alert_id,
            at=update.at,
            by=update.actor,
        )


class DeadLetterIntake:
    """Stores the messages any service set aside, so operators can list them.

    An unreadable record is not quarantined but raised: the bus then logs it whole (it
    never makes a dead letter of a dead letter, which would loop).
    """

    def __init__(self, api: AlertingApi) -> None:
        self.api = api

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        record = DeadLetter.model_validate_json(payload)
        if await self.api.record_dead_letter(record):
            log.error(
                "dead_letter_stored",
                dead_letter_id=record.dead_letter_id,
                service=record.service,
                topic=record.topic,
                error_type=record.error_type,
                attempts=record.attempts,
            )
        return []


class SummaryIntake:
    """Stores each home's day (``DailySummary`` from the detector) and logs the wellbeing
    notices it raised. Notices are never alerts: nothing here pages anyone."""

    def __init__(self, api: AlertingApi) -> None:
        self.api = api

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            day = DailySummary.model_validate_json(payload)
        except ValidationError as error:
            log.error("daily_summary_rejected", topic=topic, reason=str(error.errors()[0]["msg"]))
            return []
        raised = await until_the_database_answers(
            lambda: self.api.record_day(day),
            "daily_summary_store_failed_retrying",
            home=day.home,
        )
        log.info("daily_summary_stored", home=day.home, day=day.day.isoformat())
        for notice in raised:
            log.info(
                "wellbeing_notice_raised",
                home=notice.home,
                notice_id=notice.notice_id,
                kind=notice.kind,
            )
        return []


def _nothing() -> None:
    pass


class AlertingIntakes:
    """Everything alerting reads on its main session and where each message goes: the one
    declaration that its process and the in-process harness (``simulator.evaluation``) share.

    ``escalate_now`` wakes the escalation loop (an alert stored, a service down);
    ``send_now`` wakes the outbox (an acknowledgement turned notices into "taken" ones).
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        api: AlertingApi,
        *,
        escalate_now: Callable[[], None] = _nothing,
        send_now: Callable[[], None] = _nothing,
    ) -> None:
        self.topics = settings.topics
        self.alerts = AlertIntake(settings, clock, api, escalate_now)
        self.feedback = AckFeedback(settings, api, send_now)
        watched = watched_sessions(self.topics, settings.watched_services, settings.replicas)
        self.watch = ServiceWatch(self.topics, clock, api, watched, escalate_now)
        self.dead_letters = DeadLetterIntake(api)
        self.summaries = SummaryIntake(api)

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(self.topics.all_alerts_filter, self.alerts.handle),
            Subscription(self.topics.all_updates_filter, self.feedback.handle),
            Subscription(self.topics.all_service_status_filter, self.watch.handle_status),
            Subscription(self.topics.all_service_heartbeat_filter, self.watch.handle_heartbeat),
            Subscription(self.topics.all_dead_letters_filter, self.dead_letters.handle),
            Subscription(self.topics.all_daily_summaries_filter, self.summaries.handle),
        ]

    def lane_subscriptions(self) -> list[Subscription]:
        """What the life-safety lane reads: every alert (it keeps only the urgent kinds)."""
        return [Subscription(self.topics.all_alerts_filter, self.alerts.handle_lane)]


async def run(
    settings: Settings, clock: Clock, engine: AsyncEngine, notifier: Notifier | None = None
) -> None:
    """Serve alerting: at once, or, as one of several replicas, while holding its lease."""
    if not settings.replicas:
        return await serve(settings, clock, engine, notifier)
    # A broken policy file stops a standby's start too, not the take-over hours later.
    AlertingApi.from_settings(engine, clock, settings).policies.check()
    leases = ShardLeases(
        engine,
        clock,
        scope="alerting",
        owner=settings.instance_name(),
        shard_count=1,
        ttl=timedelta(seconds=settings.lease_ttl_s),
    )
    log.info("alerting_replica_waiting", owner=leases.owner)
    await serve_shards(leases, lambda _shard: serve(settings, clock, engine, notifier))


async def serve(
    settings: Settings, clock: Clock, engine: AsyncEngine, notifier: Notifier | None = None
) -> None:
    api = AlertingApi.from_settings(engine, clock, settings)
    api.policies.check()  # a broken policy file stops the start, not the first alert
    assert api.links is not None
    owner = instance_owner()
    escalator = Escalator(engine, clock, api.policies, api.links, owner)
    outbox = Outbox(engine, clock, notifier or AppriseNotifier(), owner)
    escalate_now, send_now = asyncio.Event(), asyncio.Event()
    topics = settings.topics
    intakes = AlertingIntakes(
        settings, clock, api, escalate_now=escalate_now.set, send_now=send_now.set
    )
    watch = intakes.watch
    connection = MqttConnection.serving(settings, CLIENT_ID, intakes.subscriptions())
    lane = MqttConnection.serving(settings, LANE_CLIENT_ID, intakes.lane_subscriptions())
    # The services' input, seen on a connection of its own: a clean session at QoS 0, so it
    # never queues device traffic for us while we are down, nor delays an alert behind it.
    # Its subscriptions follow what the stall watch wants to see (``watch.follow_inputs``).
    inputs = MqttConnection(
        settings, f"{CLIENT_ID}-inputs", (), watch.handle_input, persistent=False, qos=0
    )
    # Escalation must never wait for the broker: updates queue up here while it is away.
    updates: asyncio.Queue[Outgoing] = asyncio.Queue()

    async def escalate() -> datetime | None:
        fired, due = await escalator.run_once()
        for update in fired:
            updates.put_nowait(
                Outgoing(topics.alert_updates(update.alert_id), update.to_json(), qos=1)
            )
        if fired:
            send_now.set()
        return due

    async def publish_updates() -> None:
        while True:
            await connection.publish(await updates.get())

    async def watch_silence() -> None:
        while True:
            await asyncio.sleep(settings.heartbeat_s)  # wall time: liveness, not escalation
            for update in await watch.check_silence():
                updates.put_nowait(update)

    # The only instance working timers and outbox now: what a dead predecessor had claimed
    # is ours at once, not when its leases lapse.
    await until_the_database_answers(
        lambda: leases.take_over_all(engine, owner), "lease_take_over_failed_retrying"
    )
    log.info("alerting_started", owner=owner, policies=str(settings.policies_dir or "built-in"))
    async with asyncio.TaskGroup() as group:
        group.create_task(connection.run())
        group.create_task(lane.run())
        readings = [
            connection_readings(connection),
            connection_readings(lane),
            alerting_readings(intakes.alerts, escalator, outbox),
        ]
        if watch.stalls.filters:
            group.create_task(inputs.run())
            group.create_task(watch.follow_inputs(inputs))
            readings.append(connection_readings(inputs))
        group.create_task(export(*readings))
        group.create_task(publish_updates())
        group.create_task(watch_silence())
        group.create_task(work_loop("escalation", clock, escalate, escalate_now))
        group.create_task(work_loop("outbox", clock, outbox.run_once, send_now))

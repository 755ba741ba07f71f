"""The dashboard service: HTTP server plus the MQTT subscriptions that feed it.

Updates come back through MQTT even when the ack was made on this very server, so every
dashboard instance (and every other consumer) sees the same sequence of lifecycle steps.
The gateway's normalised presence and events feed the homes overview (``ActivityBoard``)
and the stored activity behind the resident's day (``ActivityLog``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting.api import AlertingApi, AlertNotFound
from dashboards.activity import ActivityBoard
from dashboards.activity_log import ActivityLog
from dashboards.alert_lists import with_responses
from dashboards.app import create_app
from dashboards.homes import placed_households
from dashboards.scope import Placement
from dashboards.stream import Broadcaster
from eldercare.bus import MqttConnection, Outgoing, Subscription
from eldercare.clock import Clock
from eldercare.failures import until_the_database_answers
from eldercare.keyed_lanes import KeyedLanes
from eldercare.logs import get_logger
from eldercare.metrics import connection_readings, export
from eldercare.models import AlertUpdate
from eldercare.settings import Environment, Settings
from eldercare.topics import Topics, dashboard_client_ids
from eldercare.urgent_work import UrgentWork
from eldercare.web import GRACEFUL_S, EmbeddedServer

log = get_logger("dashboard")


class UpdateFeed:
    """Turns each lifecycle update from MQTT into an SSE frame with the alert's current view,
    tagged with the home's placement so each stream can keep it to those allowed to see it.
    Three queries an update, whatever the home: the alert (alerting's API), the placement
    with the household (one query, ``placed_households``: both read fresh every time), and
    the responses. A new home's update took six (issue 18).

    Each update is urgent work (``eldercare.urgent_work``): the activity feed and its writer
    pause while one is handled, so its queries' answers find the loop and the interpreter
    free instead of waiting behind every home's events.

    Updates of different alerts are shown side by side, one alert's in the order they came
    (``eldercare.keyed_lanes``): a press's update no longer waits for the previous alert's.
    ``handle`` returns once the update is started, so the message is acknowledged before the
    frame is out; the session is clean (a reconnect redelivers nothing either way), and a
    database away is waited out here as the bus would have, the update still in order, and
    an update that fails for good is set aside as the bus would have, a visible dead letter
    on the session it came on (``connection``)."""

    #: Updates being shown at once; past that, the session's reading waits.
    IN_FLIGHT = 32

    def __init__(
        self,
        api: AlertingApi,
        broadcaster: Broadcaster,
        engine: AsyncEngine,
        urgent: UrgentWork | None = None,
    ) -> None:
        self.api = api
        self.broadcaster = broadcaster
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.urgent = urgent or UrgentWork()
        self._lanes = KeyedLanes(self.IN_FLIGHT)
        #: The session the updates come on (``run`` sets it): where a poison one is set aside.
        self.connection: MqttConnection | None = None

    def subscriptions(self, topics: Topics) -> list[Subscription]:
        return [Subscription(topics.all_updates_filter, self.handle)]

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            update = AlertUpdate.model_validate_json(payload)
        except ValidationError as error:
            log.error("update_unusable", topic=topic, error=str(error))
            return []
        # Urgent from now, not from when its task first runs: ordinary work must not slip in.
        end = self.urgent.begin()
        try:
            task = await self._lanes.start(
                update.alert_id, lambda: self._shown(topic, payload, update)
            )
        except BaseException:
            end()  # never started (cancelled while waiting for a slot)
            raise
        task.add_done_callback(lambda _task: end())  # ended, failed or cancelled
        return []

    async def shown(self) -> None:
        """Return once every update handed in so far is on the walls (or given up)."""
        await self._lanes.idle()

    async def _shown(self, topic: str, payload: bytes, update: AlertUpdate) -> None:
        try:
            await until_the_database_answers(
                lambda: self._show(topic, update),
                "update_show_failed_retrying",
                alert_id=update.alert_id,
            )
        except Exception as error:
            # Acknowledged when it was started, so the bus can no longer set it aside: done
            # here, once (a database away was retried above; anything else fails again).
            if self.connection is None:
                raise
            failed_at = datetime.now(UTC)
            for record in self.connection.set_aside(topic, payload, error, failed_at, 1):
                await self.connection.publish(record)

    async def _show(self, topic: str, update: AlertUpdate) -> None:
        try:
            alert = await self.api.get(update.alert_id)
        except AlertNotFound as error:
            log.error("update_unusable", topic=topic, error=str(error))
            return
        async with self.sessions() as session:
            placed = await placed_households(session, [alert.home])
            placement, household = placed.get(alert.home, (Placement(alert.home, None, None), None))
            known = {alert.home: household} if household else {}
            (item,) = await with_responses(session, [alert], known)
        self.broadcaster.publish(
            "alert",
            {"update": update.model_dump(mode="json"), "alert": item.model_dump(mode="json")},
            placement,
        )


def activity_session(
    settings: Settings, client_id: str, activity: ActivityBoard, urgent: UrgentWork
) -> MqttConnection:
    """Every home's events and presence, on a session of their own at QoS 0: behind them in
    one session an alert's update waited for the whole backlog at 10 000 homes, and a
    PUBACK per event was the largest part of the dashboard's CPU (issue 18). A clean
    session redelivers nothing after a reconnect anyway, so QoS 1 bought nothing here.
    It steps aside while ``urgent`` work (an update) runs: in one loop with it, each of the
    update's queries waited for the interpreter behind the events."""
    return MqttConnection.serving(
        settings,
        client_id,
        activity.subscriptions(),
        persistent=False,
        qos=0,
        steps_aside_for=urgent,
    )


def web_server(app: FastAPI, settings: Settings) -> EmbeddedServer:
    """The HTTP server of ``app`` as the service runs it (tests serve their apps with it)."""
    return EmbeddedServer(
        uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            lifespan="off",
            # X-Forwarded-For names the client only when a proxy we run sent it: uvicorn's
            # default trusts it from 127.0.0.1, so any local process could pick its address
            # (and escape the per-address login lock).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies,
            # Live walls hold SSE streams open for ever; a stop must not wait for them.
            timeout_graceful_shutdown=GRACEFUL_S,
        )
    )


async def run(settings: Settings, clock: Clock, engine: AsyncEngine) -> None:
    api = AlertingApi.from_settings(engine, clock, settings)
    broadcaster = Broadcaster()
    urgent = UrgentWork()  # the wall's updates; the activity feed and its writer wait
    feed = UpdateFeed(api, broadcaster, engine, urgent)
    activity_log = ActivityLog(engine, clock, urgent)
    activity = ActivityBoard(settings.topics, activity_log)

    # Not persistent: a screen wants what happens from now on; it reloads the list on connect.
    client_id, activity_id = dashboard_client_ids(settings.http_port)
    connection = MqttConnection.serving(
        settings, client_id, feed.subscriptions(settings.topics), persistent=False
    )
    feed.connection = connection
    activity_feed = activity_session(settings, activity_id, activity, urgent)

    async def publish_update(update: AlertUpdate) -> None:
        await connection.publish(
            Outgoing(settings.topics.alert_updates(update.alert_id), update.to_json(), qos=1)
        )

    app = create_app(
        api,
        broadcaster,
        publish_update,
        engine=engine,
        clock=clock,
        signing_key=settings.signing_key(),
        activity=activity,
        secure_cookies=settings.environment is Environment.PRODUCTION,
        docs_need_login=settings.environment is Environment.PRODUCTION,
    )
    server = web_server(app, settings)
    log.info("dashboard_started", url=f"http://{settings.http_host}:{settings.http_port}/")
    async with asyncio.TaskGroup() as group:
        group.create_task(connection.run())
        group.create_task(activity_feed.run())
        group.create_task(
            export(connection_readings(connection), connection_readings(activity_feed))
        )
        group.create_task(server.serve_until_cancelled())
        group.create_task(activity_log.run())

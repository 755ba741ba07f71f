"""The dashboard service: HTTP server plus the MQTT subscription that feeds the SSE stream.

Updates come back through MQTT even when the ack was made on this very server, so every
dashboard instance (and every other consumer) sees the same sequence of lifecycle steps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting.api import AlertingApi, AlertNotFound
from dashboards.app import create_app
from dashboards.stream import Broadcaster
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import AlertUpdate
from eldercare.settings import Settings

log = get_logger("dashboard")


class UpdateFeed:
    """Turns each lifecycle update from MQTT into an SSE frame with the alert's current view."""

    def __init__(self, api: AlertingApi, broadcaster: Broadcaster) -> None:
        self.api = api
        self.broadcaster = broadcaster

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        try:
            update = AlertUpdate.model_validate_json(payload)
            alert = await self.api.get(update.alert_id)
        except (ValidationError, AlertNotFound) as error:
            log.error("update_unusable", topic=topic, error=str(error))
            return []
        self.broadcaster.publish(
            "alert",
            {"update": update.model_dump(mode="json"), "alert": alert.model_dump(mode="json")},
        )
        return []


async def run(settings: Settings, clock: Clock, engine: AsyncEngine) -> None:
    api = AlertingApi(engine, clock)
    broadcaster = Broadcaster()
    feed = UpdateFeed(api, broadcaster)
    # Not persistent: a screen wants what happens from now on; it reloads the list on connect.
    connection = MqttConnection(
        settings,
        f"eldercare-dashboard-{settings.http_port}",
        [settings.topics.all_updates_filter],
        feed.handle,
        persistent=False,
    )

    async def publish_update(update: AlertUpdate) -> None:
        await connection.publish(
            Outgoing(settings.topics.alert_updates(update.alert_id), update.to_json(), qos=1)
        )

    app = create_app(api, broadcaster, publish_update)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port, log_config=None, lifespan="off"
        )
    )
    log.info("dashboard_started", url=f"http://{settings.http_host}:{settings.http_port}/")
    async with asyncio.TaskGroup() as group:
        group.create_task(connection.run())
        group.create_task(server.serve())

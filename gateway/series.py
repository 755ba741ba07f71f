"""The gateway's time series: each accepted message and each reject as a point, with its room.

The writer (batching, spool, replay) is shared infrastructure in ``eldercare/timeseries.py``;
what is particular to the gateway is the room tag, read from its own registry.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import DeviceStatus, Event, Telemetry
from eldercare.series_points import message_point, quarantine_point
from eldercare.settings import Settings
from eldercare.timeseries import SeriesWriter, series_writer
from gateway import registry_api

log = get_logger("timeseries")


class DeviceSeries:
    """Turns the gateway's accepted messages and rejects into points, tagged with the room."""

    ROOMS_REFRESH_S = 60.0

    def __init__(self, writer: SeriesWriter) -> None:
        self.writer = writer
        self.rooms: dict[tuple[str, str], str] = {}

    def record(self, message: Event | Telemetry | DeviceStatus, at: datetime) -> None:
        """Never raises: a time-series problem must not stop a message on its way to alerts."""
        room = self.rooms.get((message.home, message.device))
        try:
            point = message_point(message, at, room)
        except ValueError:
            self.writer.rejected += 1
            log.exception("series_point_invalid", home=message.home, device=message.device)
            return
        self.writer.write([point])

    def record_rejected(
        self, reason: str, at: datetime, home: str | None, device: str | None
    ) -> None:
        self.writer.write([quarantine_point(reason, at, home, device)])

    async def run(self, engine: AsyncEngine) -> None:
        """The writer's loop plus a room map re-read now and then from the registry."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.writer.run())
            while True:
                await self.writer.clock.sleep(self.ROOMS_REFRESH_S)
                try:
                    self.rooms = await device_rooms(engine)
                except Exception:
                    log.exception("series_rooms_refresh_failed")


async def device_rooms(engine: AsyncEngine) -> dict[tuple[str, str], str]:
    async with AsyncSession(engine) as session:
        rooms = await registry_api.device_rooms(session)
    return {key: room for key, room in rooms.items() if room}


async def device_series(
    settings: Settings, clock: Clock, engine: AsyncEngine
) -> DeviceSeries | None:
    """The gateway's recorder with the room map already loaded (so its first points carry
    rooms too), or None when no InfluxDB is configured."""
    writer = series_writer(settings, "gateway", clock)
    if writer is None:
        return None
    series = DeviceSeries(writer)
    series.rooms = await device_rooms(engine)
    return series

"""The gateway's time series: each accepted message and each reject as a point, with its room.

The writer (batching, spool, replay) is shared infrastructure in ``eldercare/timeseries.py``;
what is particular to the gateway is the room tag, which the gateway takes from its own
registry snapshot for each point. (A room map of its own, re-read every minute, walked every
device in one piece: 160 000 at 10 000 homes, held the gateway's loop; issue 18.)
"""

from __future__ import annotations

from datetime import datetime

from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import DeviceStatus, Event, Telemetry
from eldercare.series_points import message_point, quarantine_point
from eldercare.settings import Settings
from eldercare.timeseries import SeriesWriter, series_writer

log = get_logger("timeseries")


class DeviceSeries:
    """Turns the gateway's accepted messages and rejects into points, tagged with the room."""

    def __init__(self, writer: SeriesWriter) -> None:
        self.writer = writer

    def record(
        self, message: Event | Telemetry | DeviceStatus, at: datetime, room: str | None
    ) -> None:
        """Never raises: a time-series problem must not stop a message on its way to alerts."""
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

    async def run(self) -> None:
        """The writer's loop, until cancelled."""
        await self.writer.run()


def device_series(settings: Settings, clock: Clock) -> DeviceSeries | None:
    """The gateway's recorder, or None when no InfluxDB is configured."""
    writer = series_writer(settings, "gateway", clock)
    return None if writer is None else DeviceSeries(writer)

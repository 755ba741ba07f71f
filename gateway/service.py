"""The gateway service: raw device topics in, normalised or quarantined topics out."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from detector.timeseries import DeviceSeries, device_series
from eldercare.bus import MqttConnection, Outgoing
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import DeviceStatus, QuarantineRecord
from eldercare.settings import Settings
from eldercare.topics import Channel
from gateway.registry import known_devices
from gateway.validation import Rejected, SeqWindow, validate

log = get_logger("gateway")

REGISTRY_REFRESH_S = 10.0
QUARANTINE_HEAD_BYTES = 512
DEVICE_CHANNELS = (Channel.EVENT, Channel.TELEMETRY, Channel.STATUS)


class Gateway:
    """Decides per message; counts every reject by reason and by device."""

    def __init__(
        self, settings: Settings, clock: Clock, series: DeviceSeries | None = None
    ) -> None:
        self.settings = settings
        self.series = series
        self.topics = settings.topics
        self.clock = clock
        self.known: frozenset[tuple[str, str]] | None = None
        self.seq_window = SeqWindow()
        self.accepted = 0
        self.duplicates = 0
        self.quarantined: Counter[str] = Counter()
        self.quarantined_by_device: Counter[tuple[str, str]] = Counter()

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        if self.topics.is_internal(topic):
            return []
        now = self.clock.now()
        result = validate(
            self.topics,
            topic,
            payload,
            now=now,
            max_bytes=self.settings.max_payload_bytes,
            known=self.known,
        )
        if isinstance(result, Rejected):
            return [self._quarantine(topic, payload, result)]
        seq = getattr(result, "seq", None)
        if seq is not None and not self.seq_window.first_time(result.home, result.device, seq):
            self.duplicates += 1
            log.debug("duplicate_dropped", home=result.home, device=result.device, seq=seq)
            return []
        self.accepted += 1
        channel = self.topics.parse_device(topic).channel
        is_status = isinstance(result, DeviceStatus)
        if is_status and result.ts is None:
            result = result.model_copy(update={"ts": now})
        if self.series:
            self.series.record(result, now)
        return [
            Outgoing(
                self.topics.normalised(result.home, result.device, channel),
                result.to_json(),
                qos=0 if channel is Channel.TELEMETRY else 1,
                retain=is_status,
            )
        ]

    def _quarantine(self, topic: str, payload: bytes, rejected: Rejected) -> Outgoing:
        kind = rejected.reason.split(":", 1)[0]
        if self.series:
            self.series.record_rejected(
                rejected.reason, self.clock.now(), rejected.home, rejected.device
            )
        self.quarantined[kind] += 1
        if rejected.home and rejected.device:
            self.quarantined_by_device[(rejected.home, rejected.device)] += 1
        log.warning(
            "payload_quarantined",
            home=rejected.home,
            device=rejected.device,
            topic=topic,
            reason=rejected.reason,
        )
        record = QuarantineRecord(
            topic=topic,
            reason=rejected.reason,
            received_at=self.clock.now(),
            size=len(payload),
            payload_head=payload[:QUARANTINE_HEAD_BYTES].decode("utf-8", errors="replace"),
        )
        return Outgoing(self.topics.quarantine(topic), record.to_json(), qos=0)

    async def refresh_registry(self, engine: AsyncEngine) -> None:
        """Re-read the registry now and then, so newly registered devices are let in."""
        while True:
            try:
                self.known = await known_devices(engine)
            except Exception:
                log.exception("registry_refresh_failed")
            await self.clock.sleep(REGISTRY_REFRESH_S)


async def run(settings: Settings, clock: Clock, engine: AsyncEngine) -> None:
    gateway = Gateway(settings, clock, await device_series(settings, clock, engine))
    gateway.known = await known_devices(engine)
    connection = MqttConnection(
        settings,
        "eldercare-gateway",
        [settings.topics.raw_device_filter(channel) for channel in DEVICE_CHANNELS],
        gateway.handle,
    )
    log.info("gateway_started", devices=len(gateway.known))
    async with asyncio.TaskGroup() as group:
        group.create_task(gateway.refresh_registry(engine))
        group.create_task(connection.run())
        if gateway.series:
            group.create_task(gateway.series.run(engine))

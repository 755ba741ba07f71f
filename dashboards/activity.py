"""What the homes are doing right now, as far as the dashboard can hear it.

The dashboard listens to the gateway's normalised presence (retained, so a fresh dashboard
knows every device's last state at once) and events. It keeps the newest state per device
in memory and hands each sign of life to the ``ActivityLog``, which stores it: the
resident's day outlives a restart, device liveness needs none of that. Heartbeats prove
that a device lives, not that the resident moved, so they count for liveness only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from dashboards.activity_log import ActivityLog
from eldercare.bus import Outgoing, Subscription
from eldercare.models import DeviceState, DeviceStatus, Event, EventType
from eldercare.topics import Channel, TopicError, Topics

#: Events that say a person did something (not a device talking to us).
NOT_ACTIVITY = frozenset({EventType.HEARTBEAT})


@dataclass(slots=True)
class DeviceLiveness:
    state: DeviceState | None = None
    changed_at: datetime | None = None
    last_seen: datetime | None = None


class ActivityBoard:
    def __init__(self, topics: Topics, log: ActivityLog) -> None:
        self.topics = topics
        self.log = log
        self.devices: dict[tuple[str, str], DeviceLiveness] = {}

    def subscriptions(self) -> list[Subscription]:
        """The gateway's presence (retained) and events."""
        return [
            Subscription(self.topics.normalised_filter(Channel.STATUS), self.handle),
            Subscription(self.topics.normalised_filter(Channel.EVENT), self.handle),
        ]

    async def handle(self, topic: str, payload: bytes) -> Sequence[Outgoing]:
        """Feed one normalised message; anything unreadable is ignored (the gateway checked)."""
        try:
            channel = self.topics.parse_device(topic).channel
            if channel is Channel.STATUS:
                self.on_status(DeviceStatus.model_validate_json(payload))
            elif channel is Channel.EVENT:
                self.on_event(Event.model_validate_json(payload))
        except (TopicError, ValidationError):
            pass
        return []

    def on_status(self, status: DeviceStatus) -> None:
        liveness = self.devices.setdefault((status.home, status.device), DeviceLiveness())
        if status.state is not liveness.state:
            liveness.state, liveness.changed_at = status.state, status.ts
        if status.ts and status.state is DeviceState.ONLINE:
            liveness.last_seen = max(filter(None, (liveness.last_seen, status.ts)))

    def on_event(self, event: Event) -> None:
        liveness = self.devices.setdefault((event.home, event.device), DeviceLiveness())
        liveness.last_seen = max(filter(None, (liveness.last_seen, event.ts)))
        if event.type not in NOT_ACTIVITY:
            self.log.record(event)

    def device(self, home_id: str, device_id: str) -> DeviceLiveness:
        return self.devices.get((home_id, device_id), DeviceLiveness())

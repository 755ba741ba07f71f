"""What the homes are doing right now, as far as the dashboard can hear it.

The dashboard listens to the gateway's normalised presence (retained, so a fresh dashboard
knows every device's last state at once) and events. It keeps the newest state per device
and the last resident activity per home in memory: a restart forgets "last activity" until
the next event, and every view says "unknown" rather than guessing. Heartbeats prove that a
device lives, not that the resident moved, so they count for liveness only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from eldercare.bus import Outgoing
from eldercare.models import DeviceState, DeviceStatus, Event, EventType
from eldercare.topics import Channel, TopicError, Topics

#: Events that say a person did something (not a device talking to us).
NOT_ACTIVITY = frozenset({EventType.HEARTBEAT})
#: Recent activity kept per home for "what the sensors showed before the alert": bounded,
#: so 10 000 homes cost a few MB, until a time-series reader replaces it.
RECENT_PER_HOME = 40


@dataclass(slots=True)
class DeviceLiveness:
    state: DeviceState | None = None
    changed_at: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class LastActivity:
    at: datetime
    device: str
    type: EventType


class ActivityBoard:
    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.devices: dict[tuple[str, str], DeviceLiveness] = {}
        self.last_activity: dict[str, LastActivity] = {}
        self.recent: dict[str, deque[LastActivity]] = {}

    @property
    def subscriptions(self) -> list[str]:
        return [
            self.topics.normalised_filter(Channel.STATUS),
            self.topics.normalised_filter(Channel.EVENT),
        ]

    def wants(self, topic: str) -> bool:
        return topic.startswith(f"{self.topics.prefix}/_normalised/")

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
        if event.type in NOT_ACTIVITY:
            return
        activity = LastActivity(event.ts, event.device, event.type)
        self.recent.setdefault(event.home, deque(maxlen=RECENT_PER_HOME)).append(activity)
        known = self.last_activity.get(event.home)
        if known is None or event.ts >= known.at:
            self.last_activity[event.home] = activity

    def activity_between(self, home_id: str, start: datetime, end: datetime) -> list[LastActivity]:
        """What the home's sensors reported in [start, end], oldest first, as far as this
        dashboard heard it since it started."""
        found = [a for a in self.recent.get(home_id, ()) if start <= a.at <= end]
        return sorted(found, key=lambda activity: activity.at)

    def device(self, home_id: str, device_id: str) -> DeviceLiveness:
        return self.devices.get((home_id, device_id), DeviceLiveness())

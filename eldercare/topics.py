"""Build and parse the MQTT topics of the contract (DESIGN §3).

Homes publish raw device messages under ``{prefix}/{home}/{device}/{channel}``. The
gateway republishes what passed validation under ``{prefix}/_normalised/{shard}/...`` so that
the detector only ever reads checked data, and a home's credentials (which may publish only
below ``{prefix}/{home}/``) can never inject into the normalised stream or the alert topics.

The shard level (``shard_of``: a stable hash of the home id, two digits) lets one detector
instance subscribe to exactly the shards it owns (docs/scale-out.md); a single instance
subscribes to ``+`` there and sees every home.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_PREFIX = "eldercare/v1"
NORMALISED = "_normalised"
QUARANTINE = "_quarantine"
DEAD_LETTER = "_deadletter"
SYSTEM = "_system"
REGISTRATION = "_registration"
ALERTS = "alerts"
#: Life-safety events again, for the detector's lane (a second session that a backlog of
#: ordinary traffic in its main queue cannot delay).
LIFE_SAFETY = "_lifesafety"
WELLBEING = "_wellbeing"

#: Shards homes are spread over (``Settings.shard_count``); fixed for a deployment's life.
DEFAULT_SHARD_COUNT = 16

_LEVEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class Channel(StrEnum):
    EVENT = "event"
    TELEMETRY = "telemetry"
    STATUS = "status"
    CMD = "cmd"


class TopicError(ValueError):
    """The topic does not belong to the contract; the reason goes into quarantine."""


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    home: str
    device: str
    channel: Channel


def _check_level(name: str, value: str) -> str:
    if not _LEVEL.match(value) or value == ALERTS:
        raise TopicError(f"invalid {name} id {value!r} in topic")
    return value


def home_hash(home: str) -> int:
    """CRC-32 of the home id: the same on every machine and Python run (``hash()`` is salted
    per process), so every service agrees without a lookup. Stored with the home
    (``homes.shard_hash``) so a replica can select its shards' homes in SQL."""
    return zlib.crc32(home.encode())


def shard_of(home: str, shard_count: int = DEFAULT_SHARD_COUNT) -> int:
    """The shard a home belongs to."""
    return home_hash(home) % shard_count


def shard_level(shard: int) -> str:
    """A shard as a topic level and in client ids: ``07``."""
    return f"{shard:02d}"


def shard_client_id(base: str, shard: int) -> str:
    """The MQTT client id of one shard's persistent session (``eldercare-detector-shard-07``):
    whichever instance owns the shard connects under it and takes over what is queued."""
    return f"{base}-shard-{shard_level(shard)}"


def dashboard_client_ids(port: int) -> tuple[str, str]:
    """A dashboard's two sessions (its id carries its HTTP port, several may share a host):
    the alert updates, and the activity feed apart at QoS 0, so that an update never waits
    behind every home's events (issue 18)."""
    client_id = f"eldercare-dashboard-{port}"
    return client_id, f"{client_id}-activity"


@dataclass(frozen=True, slots=True)
class Topics:
    """All topic names for one prefix; services get one from settings."""

    prefix: str = DEFAULT_PREFIX
    shard_count: int = DEFAULT_SHARD_COUNT

    def _shard(self, home: str) -> str:
        return shard_level(shard_of(home, self.shard_count))

    def device(self, home: str, device: str, channel: Channel | str) -> str:
        channel = Channel(channel)
        return (
            f"{self.prefix}/{_check_level('home', home)}/{_check_level('device', device)}/{channel}"
        )

    def normalised(self, home: str, device: str, channel: Channel | str) -> str:
        return f"{self.prefix}/{NORMALISED}/{self._shard(home)}/{home}/{device}/{Channel(channel)}"

    def life_safety(self, home: str, device: str) -> str:
        """A normalised life-safety event's copy for the detector's lane."""
        return f"{self.prefix}/{LIFE_SAFETY}/{self._shard(home)}/{home}/{device}/{Channel.EVENT}"

    def quarantine(self, original_topic: str) -> str:
        """Quarantined payloads keep their original topic below the quarantine root."""
        rest = original_topic.removeprefix(self.prefix + "/")
        return f"{self.prefix}/{QUARANTINE}/{rest}"

    def dead_letters(self, service: str) -> str:
        """Messages a service set aside after failing to handle them (``DeadLetter``)."""
        return f"{self.prefix}/{DEAD_LETTER}/{service}"

    @property
    def all_dead_letters_filter(self) -> str:
        return f"{self.prefix}/{DEAD_LETTER}/+"

    def is_dead_letter(self, topic: str) -> bool:
        return topic.startswith(f"{self.prefix}/{DEAD_LETTER}/")

    @property
    def registration(self) -> str:
        """Where the gateway reports unregistered devices (once each) for an installer."""
        return f"{self.prefix}/{REGISTRATION}"

    def daily_summary(self, home: str) -> str:
        """The detector's summary of a home's day (``DailySummary``, QoS 1). Under our own
        namespace: a home's credentials publish only below ``{prefix}/{home}/``, so no home
        can forge its own (or another's) day."""
        return f"{self.prefix}/{WELLBEING}/{_check_level('home', home)}/summary"

    @property
    def all_daily_summaries_filter(self) -> str:
        return f"{self.prefix}/{WELLBEING}/+/summary"

    def home_alerts(self, home: str) -> str:
        return f"{self.prefix}/{_check_level('home', home)}/{ALERTS}"

    def alert_updates(self, alert_id: str) -> str:
        return f"{self.prefix}/{ALERTS}/{alert_id}/updates"

    def service_status(self, service: str) -> str:
        return f"{self.prefix}/{SYSTEM}/{service}/status"

    @property
    def all_service_status_filter(self) -> str:
        return f"{self.prefix}/{SYSTEM}/+/status"

    def service_heartbeat(self, service: str) -> str:
        return f"{self.prefix}/{SYSTEM}/{service}/heartbeat"

    @property
    def all_service_heartbeat_filter(self) -> str:
        return f"{self.prefix}/{SYSTEM}/+/heartbeat"

    # Subscription filters ---------------------------------------------------------
    def raw_device_filter(self, channel: Channel | str) -> str:
        return f"{self.prefix}/+/+/{Channel(channel)}"

    def normalised_filter(self, channel: Channel | str, shard: int | None = None) -> str:
        """Every home's checked messages of a channel, or one shard's."""
        level = "+" if shard is None else shard_level(shard)
        return f"{self.prefix}/{NORMALISED}/{level}/+/+/{Channel(channel)}"

    @property
    def life_safety_filter(self) -> str:
        return self.life_safety_shard_filter(None)

    def life_safety_shard_filter(self, shard: int | None) -> str:
        level = "+" if shard is None else shard_level(shard)
        return f"{self.prefix}/{LIFE_SAFETY}/{level}/+/+/{Channel.EVENT}"

    @property
    def all_alerts_filter(self) -> str:
        return f"{self.prefix}/+/{ALERTS}"

    @property
    def all_updates_filter(self) -> str:
        return f"{self.prefix}/{ALERTS}/+/updates"

    # Parsing ------------------------------------------------------------------------
    def is_alert_update(self, topic: str) -> bool:
        """``{prefix}/alerts/{id}/updates`` (no home may be called ``alerts``)."""
        levels = topic.removeprefix(self.prefix + "/").split("/")
        return (
            topic.startswith(self.prefix + "/")
            and len(levels) == 3
            and levels[0] == ALERTS
            and levels[2] == "updates"
        )

    def is_internal(self, topic: str) -> bool:
        """Our own namespaces (``_system``, ``_normalised``…) that device filters also match."""
        return topic.startswith(self.prefix + "/_")

    def alerts_home(self, topic: str) -> str | None:
        """The home of a ``{prefix}/{home}/alerts`` topic, or None if it is not one."""
        levels = topic.removeprefix(self.prefix + "/").split("/")
        if not topic.startswith(self.prefix + "/") or len(levels) != 2 or levels[1] != ALERTS:
            return None
        return levels[0]

    def parse_device(self, topic: str) -> DeviceTopic:
        """Parse a raw or normalised device topic; raise TopicError with a reason."""
        if not topic.startswith(self.prefix + "/"):
            raise TopicError(f"topic {topic!r} is outside prefix {self.prefix!r}")
        levels = topic[len(self.prefix) + 1 :].split("/")
        if levels and levels[0] == NORMALISED:
            levels = levels[2:]  # and the shard
        if len(levels) != 3:
            raise TopicError(f"topic {topic!r} is not {{home}}/{{device}}/{{channel}}")
        home, device, channel = levels
        try:
            parsed_channel = Channel(channel)
        except ValueError:
            raise TopicError(f"unknown channel {channel!r}") from None
        return DeviceTopic(
            _check_level("home", home), _check_level("device", device), parsed_channel
        )

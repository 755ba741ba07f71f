"""Input stalls: a service that is connected and heartbeating but no longer works its input.

Presence and heartbeats prove that a process runs, not that its subscription still delivers
(a broker that dropped it, an ACL edit, a lost session): such a gateway looks healthy while
every call button rings into nothing. So alerting also watches each service's *input*: it
counts the stream the service consumes (the gateway: raw device events; the detector: the
gateway's normalised events) on a connection of its own, and compares it with the
``handled`` counter in the service's heartbeats.

A quiet night is not a stall: only input that arrived after the service last made progress,
and was still not handled several heartbeats later, counts. Homes send device heartbeats
(hubs every 10 min, battery devices hourly), so while any home is online the gateway's count
must grow, and the detector's must grow with the gateway's output. Pure: times are passed in
(wall seconds, like the rest of the watch), so the rules are tested without a broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from paho.mqtt.client import topic_matches_sub

from eldercare.topics import Channel, Topics, shard_client_id

#: Heartbeat intervals that input may wait unhandled before the service counts as stalled.
STALL_AFTER_BEATS = 4
#: Service ids of the gateway and the detector (as in their ``MqttConnection``).
GATEWAY, DETECTOR = "eldercare-gateway", "eldercare-detector"


def input_feeds(topics: Topics, watched: Iterable[str]) -> dict[str, str]:
    """Each watched service we know the input of → a filter that sees that input.

    Events only: every home sends them (device heartbeats are events), while telemetry
    (accelerometer batches) would make the witness the busiest subscriber on the broker.
    """
    known = {
        GATEWAY: topics.raw_device_filter(Channel.EVENT),
        DETECTOR: topics.normalised_filter(Channel.EVENT),
        **{
            shard_client_id(DETECTOR, n): topics.normalised_filter(Channel.EVENT, n)
            for n in range(topics.shard_count)
        },
    }
    return {service: known[service] for service in watched if service in known}


def watched_sessions(topics: Topics, watched: Iterable[str], replicas: bool) -> list[str]:
    """The client ids to watch for the services named. Replicas: the detector has no session
    of its own but one per shard, under the same id whichever instance owns the shard, so
    each of those is watched (a dead instance shows as its shards going offline, and
    recovers when their next owner connects)."""
    ids: list[str] = []
    for service in watched:
        if replicas and service == DETECTOR:
            ids.extend(shard_client_id(DETECTOR, n) for n in range(topics.shard_count))
        else:
            ids.append(service)
    return ids


class Verdict(StrEnum):
    PROGRESS = "progress"  # the count grew (or the service restarted): it works its input
    STALLED = "stalled"


@dataclass
class _Progress:
    handled: int
    waiting_since: float | None = None  # first input seen after the count last grew


class InputStalls:
    """``on_change`` is called whenever ``wanted`` may have changed."""

    def __init__(self, feeds: dict[str, str], on_change: Callable[[], None] = lambda: None) -> None:
        self.feeds = feeds
        self.on_change = on_change
        self._progress: dict[str, _Progress] = {}

    @property
    def filters(self) -> list[str]:
        return sorted(set(self.feeds.values()))

    @property
    def wanted(self) -> list[str]:
        """The filters worth reading now: those of a service that made progress and has no
        input waiting since. Once one message waits, more of them say nothing new until the
        service's next heartbeat, and reading every home's events in full to learn that was
        the largest part of alerting's CPU at 10 000 homes (issue 18); so the witness reads
        a feed only between a service's progress and the first input after it."""
        return sorted(
            {
                pattern
                for service, pattern in self.feeds.items()
                if (progress := self._progress.get(service)) is not None
                and progress.waiting_since is None
            }
        )

    def saw_input(self, topic: str, now: float) -> None:
        """A message the services fed by ``topic`` must handle went past."""
        changed = False
        for service, pattern in self.feeds.items():
            progress = self._progress.get(service)
            if progress is None or progress.waiting_since is not None:
                continue  # no heartbeat yet, or already waiting since earlier input
            if topic_matches_sub(pattern, topic):
                progress.waiting_since = now
                changed = True
        if changed:
            self.on_change()

    def heartbeat(
        self, service: str, handled: int, interval_s: float, now: float
    ) -> Verdict | None:
        """Judge a heartbeat: progress, stalled, or nothing to say (no input, or too soon)."""
        if service not in self.feeds:
            return None
        progress = self._progress.get(service)
        if progress is None or handled != progress.handled:  # first beat, progress, restart
            self._progress[service] = _Progress(handled)
            self.on_change()
            return None if progress is None else Verdict.PROGRESS
        waiting = progress.waiting_since
        if waiting is not None and now - waiting > STALL_AFTER_BEATS * interval_s:
            return Verdict.STALLED
        return None

    def waiting_s(self, service: str, now: float) -> float:
        """How long input has waited for ``service`` (for the alert's text)."""
        progress = self._progress.get(service)
        if progress is None or progress.waiting_since is None:
            return 0.0
        return now - progress.waiting_since

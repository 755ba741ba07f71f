"""Steady, current-time device traffic for N homes at a chosen rate (the bench's load).

The life simulator (``simulator.runner``) stamps each message with its *simulated* time, so at
``--speed 60`` a real gateway quarantines most of it as "in the future": it cannot load a
real system. This generator makes what a district's homes send, in realistic proportions,
each message stamped with the wall clock when it is made: motion and doors, device
heartbeats, climate readings, and accelerometer batches from the pendants of some homes
that stream. Every message is valid for the gateway (registered devices of
``simulator.layout.STANDARD_DEVICES``, increasing ``seq``), so whatever does not come out
normalised at the other end was lost, not rejected.

Payloads are formatted from templates, not pydantic models: at thousands of messages a
second the generator shares the machine with the system it loads, and a model dump per
message would make it the bench's own bottleneck (``tests/test_load_generator.py`` checks
that every template parses as the contract's model).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum

from eldercare.topics import Channel, Topics
from simulator.layout import CLIMATE, FRONT_DOOR, HUB, PENDANT, PIR, Room

#: Samples per accelerometer batch (one batch a second at this rate).
ACCEL_HZ = 25


class Kind(StrEnum):
    MOTION = "motion"
    DOOR = "door"
    HEARTBEAT = "heartbeat"
    CLIMATE = "climate"
    ACCEL = "accel"


#: Share of the traffic per kind for a district (the pendants' share is scaled by how many
#: homes stream): mostly motion, then device heartbeats and climate readings.
MIX: dict[Kind, float] = {
    Kind.MOTION: 0.50,
    Kind.DOOR: 0.08,
    Kind.HEARTBEAT: 0.17,
    Kind.CLIMATE: 0.15,
    Kind.ACCEL: 0.10,
}
MOTION_SENSORS = (PIR[Room.LIVING_ROOM], PIR[Room.BEDROOM], PIR[Room.KITCHEN], PIR[Room.BATHROOM])

_HEAD = '{"schema":1,"home":"%s","device":"%s","seq":%d,"ts":"%s",'
_EVENT = _HEAD + '"type":"%s"}'
_CLIMATE = _HEAD + '"metric":"temperature","value":%.1f}'
_ACCEL = _HEAD + '"metric":"accel","rate_hz":%d,"samples":%s}'
#: A pendant at rest, worn by someone sitting: gravity on z, a little noise.
_STILL = "[" + ",".join(f"[0.0{n % 3},-0.01,0.98]" for n in range(ACCEL_HZ)) + "]"


def wall_time() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class DeviceTraffic:
    """Messages for ``homes`` in the district's proportions; ``counts`` by channel so the
    receiving side can be checked for loss.

    ``stream_share`` of the homes have a pendant that streams; accelerometer batches come
    from those homes only (none if the share is 0).
    """

    def __init__(
        self,
        homes: Sequence[str],
        topics: Topics | None = None,
        *,
        stream_share: float = 0.05,
        seed: int = 0,
    ) -> None:
        if not homes:
            raise ValueError("no homes to make traffic for")
        self.homes = list(homes)
        self.topics = topics or Topics()
        self.streaming = self.homes[: max(1, round(len(self.homes) * stream_share))]
        kinds = [kind for kind in Kind if stream_share > 0 or kind is not Kind.ACCEL]
        self._kinds, self._weights = kinds, [MIX[kind] for kind in kinds]
        self._random = random.Random(seed)
        self._seq: Counter[tuple[str, str]] = Counter()
        self.counts: Counter[Channel] = Counter()

    def batch(self, size: int) -> list[tuple[str, bytes]]:
        """``size`` messages stamped now (topic, payload)."""
        now = wall_time()
        kinds = self._random.choices(self._kinds, self._weights, k=size)
        return [self._message(kind, now) for kind in kinds]

    def roll_call(self, devices: Sequence[str], size: int) -> Iterator[list[tuple[str, bytes]]]:
        """A heartbeat from every one of ``devices`` in every home, ``size`` at a time, each
        batch stamped when it is made: what a gateway has heard from a district once it
        has run a while (it publishes a device's status the first time it hears it)."""
        calls = [(home, device) for home in self.homes for device in devices]
        for start in range(0, len(calls), size):
            now = wall_time()
            yield [self._event(h, d, "heartbeat", now) for h, d in calls[start : start + size]]

    def press(self, home: str, device: str) -> tuple[str, bytes]:
        """A call-button press, counted with the events."""
        return self._event(home, device, "call_button", wall_time())

    def _message(self, kind: Kind, now: str) -> tuple[str, bytes]:
        pick = self._random.choice
        if kind is Kind.ACCEL:
            home = pick(self.streaming)
            return self._telemetry(home, PENDANT, _ACCEL, now, ACCEL_HZ, _STILL)
        home = pick(self.homes)
        if kind is Kind.CLIMATE:
            value = 18 + 8 * self._random.random()
            return self._telemetry(home, CLIMATE, _CLIMATE, now, value)
        if kind is Kind.MOTION:
            return self._event(home, pick(MOTION_SENSORS), "motion", now)
        if kind is Kind.DOOR:
            return self._event(home, FRONT_DOOR, pick(("door_open", "door_close")), now)
        return self._event(home, HUB, "heartbeat", now)

    def _next_seq(self, home: str, device: str) -> int:
        self._seq[(home, device)] += 1
        return self._seq[(home, device)]

    def _event(self, home: str, device: str, kind: str, now: str) -> tuple[str, bytes]:
        seq = self._next_seq(home, device)
        self.counts[Channel.EVENT] += 1
        payload = _EVENT % (home, device, seq, now, kind)
        return self.topics.device(home, device, Channel.EVENT), payload.encode()

    def _telemetry(
        self, home: str, device: str, template: str, now: str, *values: object
    ) -> tuple[str, bytes]:
        seq = self._next_seq(home, device)
        self.counts[Channel.TELEMETRY] += 1
        payload = template % (home, device, seq, now, *values)
        return self.topics.device(home, device, Channel.TELEMETRY), payload.encode()

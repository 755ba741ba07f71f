"""Per-device token buckets: one device's flood must cost the gateway almost nothing.

The gateway takes its messages from one broker queue, in order. A device publishing 1.7 k
messages a second filled that queue faster than the gateway republished (about 850 a
second, each waiting for its PUBACK), so every other home's call button waited behind the
flood for over a minute, and the broker dropped some once the queue was full. So the check
runs first, on the topic's home/device alone: a message over its device's budget is
acknowledged without being parsed or republished.

Life-safety events must never be dropped, but a message's type is only known once it is
read. Devices of a life-safety kind (call button, pendant, smoke, gas, water) are read even
over budget, and only their life-safety events pass; everything else from them over budget
is dropped. A device of any other kind cannot send a life-safety event worth trusting, so
its excess is dropped unread. A device the registry does not know yet is treated like a
life-safety one (read, then judged by type): before the first registry read the gateway
knows no kinds, and a lost call is worse than a read.

Excess is counted per device and reported as one summary per device per ``report_s`` (one
quarantine record per dropped message would be a flood of its own). Buckets are kept for
the most recently heard ``max_devices`` devices; a device evicted simply starts full again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from eldercare.bounded import LruDict
from eldercare.settings import DeviceRate, DeviceRateLimits


class Admission(Enum):
    PASS = "pass"  # within budget
    LIFE_SAFETY_ONLY = "life_safety_only"  # over budget: read it, let only life-safety through
    DROP = "drop"  # over budget: acknowledge, do nothing else


@dataclass(slots=True)
class _Bucket:
    rate: DeviceRate
    tokens: float
    at: float
    #: Dropped in all, dropped since the last summary, and when the next summary may go out.
    dropped: int = 0
    unreported: int = 0
    report_after: float = 0.0
    topic: str = ""  # the last dropped message's, for the summary


@dataclass(frozen=True, slots=True)
class Excess:
    """Messages of one device dropped since its last summary."""

    home: str
    device: str
    topic: str
    count: int
    total: int
    rate: DeviceRate

    @property
    def reason(self) -> str:
        return (
            f"rate_limited: {self.count} messages over {self.rate.per_s:g}/s "
            f"(burst {self.rate.burst}) dropped, {self.total} since start"
        )


class DeviceRateLimiter:
    """Decides per message from (home, device, kind) and the time in seconds; no I/O."""

    def __init__(self, limits: DeviceRateLimits) -> None:
        self.limits = limits
        self._buckets: LruDict[tuple[str, str], _Bucket] = LruDict(limits.max_devices)
        #: Devices with drops not yet reported (a subset of the buckets, so bounded alike).
        self._pending: LruDict[tuple[str, str], _Bucket] = LruDict(limits.max_devices)
        self.dropped = 0

    @property
    def evictions(self) -> int:
        return self._buckets.evictions

    def __len__(self) -> int:
        return len(self._buckets)

    def admit(self, home: str, device: str, kind: str | None, now: float) -> Admission:
        rate = self.limits.for_kind(kind)
        bucket = self._buckets.setdefault((home, device), lambda: _Bucket(rate, rate.burst, now))
        if bucket.rate != rate:  # the registry changed the device's kind
            bucket.rate, bucket.tokens = rate, min(bucket.tokens, rate.burst)
        bucket.tokens = min(rate.burst, bucket.tokens + max(0.0, now - bucket.at) * rate.per_s)
        bucket.at = max(bucket.at, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Admission.PASS
        if kind is None or kind in self.limits.life_safety_kinds:
            return Admission.LIFE_SAFETY_ONLY
        return Admission.DROP

    def dropped_by(self, home: str, device: str) -> int:
        bucket = self._buckets.get((home, device))
        return bucket.dropped if bucket else 0

    def drop(self, home: str, device: str, topic: str, now: float) -> Excess | None:
        """Count one dropped message; a summary when this device's last one is old enough."""
        self.dropped += 1
        key = (home, device)
        bucket = self._buckets.get(key)
        if bucket is None:  # evicted between admit and drop: nothing to summarise against
            return None
        bucket.dropped += 1
        bucket.unreported += 1
        bucket.topic = topic
        if now < bucket.report_after:
            self._pending[key] = bucket
            return None
        return self._report(key, bucket, now)

    def due(self, now: float) -> list[Excess]:
        """Summaries whose window has passed, so the tail of a flood is reported too."""
        return [
            self._report(key, bucket, now)
            for key, bucket in self._pending.items()
            if now >= bucket.report_after
        ]

    def _report(self, key: tuple[str, str], bucket: _Bucket, now: float) -> Excess:
        excess = Excess(
            key[0], key[1], bucket.topic, bucket.unreported, bucket.dropped, bucket.rate
        )
        bucket.unreported, bucket.report_after = 0, now + self.limits.report_s
        self._pending.pop(key)
        return excess

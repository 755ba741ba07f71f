"""What the detector reports on ``/metrics``: messages received, alerts raised and rules that
failed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from eldercare.metrics import (
    ALERTS_RAISED,
    DETECTOR_INVALID,
    DETECTOR_RECEIVED,
    RULE_FAILURES,
    Reading,
    Source,
)
from eldercare.topics import Channel

if TYPE_CHECKING:  # detector.service imports this module
    from detector.service import Detector
    from eldercare.timeseries import SeriesWriter


class Counts(Protocol):
    """What the readings need: one ``Detector``, or the sum over a replica's shards."""

    @property
    def invalid(self) -> int: ...

    @property
    def received(self) -> Counter[Channel]: ...

    @property
    def alerts_raised(self) -> Counter[str]: ...

    @property
    def rule_failures(self) -> dict[str, int]: ...

    @property
    def rule_names(self) -> list[str]: ...


def detector_readings(counts: Counts, series: SeriesWriter | None) -> Source:
    def read() -> Iterator[Reading]:
        yield DETECTOR_INVALID, (), counts.invalid
        for channel, count in counts.received.items():
            yield DETECTOR_RECEIVED, (str(channel),), count
        for kind, count in counts.alerts_raised.items():
            yield ALERTS_RAISED, (kind,), count
        failures = counts.rule_failures
        for name in counts.rule_names:  # every rule, so a first failure is a rise from 0
            yield RULE_FAILURES, (name,), failures.get(name, 0)
        if series is not None:
            yield from series.readings()

    return read


class ShardTotals:
    """A replica's counters over every shard it serves or served. A shard handed over keeps
    its counts here, so the instance's counters only grow (a drop would read as a restart)."""

    def __init__(self) -> None:
        self.live: dict[int, Detector] = {}
        self._invalid = 0
        self._received: Counter[Channel] = Counter()
        self._alerts: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._names: dict[str, None] = {}

    def serving(self, shard: int, detector: Detector) -> None:
        self.live[shard] = detector
        self._names.update(dict.fromkeys(rule.name for rule in detector.rules))

    def retire(self, shard: int) -> None:
        detector = self.live.pop(shard, None)
        if detector is not None:
            self._invalid += detector.invalid
            self._received.update(detector.received)
            self._alerts.update(detector.alerts_raised)
            self._failures.update(detector.rule_failures)

    @property
    def invalid(self) -> int:
        return self._invalid + sum(d.invalid for d in self.live.values())

    @property
    def received(self) -> Counter[Channel]:
        return sum((d.received for d in self.live.values()), Counter(self._received))

    @property
    def alerts_raised(self) -> Counter[str]:
        return sum((d.alerts_raised for d in self.live.values()), Counter(self._alerts))

    @property
    def rule_failures(self) -> dict[str, int]:
        failures = Counter(self._failures)
        for detector in self.live.values():
            failures.update(detector.rule_failures)
        return dict(failures)

    @property
    def rule_names(self) -> list[str]:
        return list(self._names)

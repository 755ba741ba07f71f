"""What the detector reports on ``/metrics``: messages received, alerts raised and rules that
failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from eldercare.metrics import (
    ALERTS_RAISED,
    DETECTOR_INVALID,
    DETECTOR_RECEIVED,
    RULE_FAILURES,
    Reading,
    Source,
)

if TYPE_CHECKING:  # detector.service imports this module
    from detector.service import Detector
    from eldercare.timeseries import SeriesWriter


def detector_readings(detector: Detector, series: SeriesWriter | None) -> Source:
    def read() -> Iterator[Reading]:
        yield DETECTOR_INVALID, (), detector.invalid
        for channel, count in detector.received.items():
            yield DETECTOR_RECEIVED, (str(channel),), count
        for kind, count in detector.alerts_raised.items():
            yield ALERTS_RAISED, (kind,), count
        for rule in detector.rules:  # every rule, so a first failure is a rise from 0
            yield RULE_FAILURES, (rule.name,), detector.rule_failures.get(rule.name, 0)
        if series is not None:
            yield from series.readings()

    return read

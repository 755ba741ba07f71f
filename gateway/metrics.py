"""What the gateway reports on ``/metrics``: its decisions, read from its own counters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from eldercare.metrics import (
    GATEWAY_ACCEPTED,
    GATEWAY_DUPLICATES,
    GATEWAY_QUARANTINED,
    GATEWAY_RATE_LIMITED,
    GATEWAY_STATUS_READS_CUT_SHORT,
    GATEWAY_STATUSES_READ,
    GATEWAY_STATUSES_RESTORED,
    Reading,
    Source,
    reason_label,
)

if TYPE_CHECKING:  # gateway.service imports this module
    from gateway.service import Gateway


def gateway_readings(gateway: Gateway) -> Source:
    def read() -> Iterator[Reading]:
        yield GATEWAY_ACCEPTED, (), gateway.accepted
        yield GATEWAY_DUPLICATES, (), gateway.duplicates
        yield GATEWAY_RATE_LIMITED, (), gateway.rate_limiter.dropped
        # By the reason's kind ("schema", "unknown device"), never its text or the device.
        for kind, count in gateway.quarantined.items():
            yield GATEWAY_QUARANTINED, (reason_label(kind),), count
        for outcome, count in gateway.restored.items():
            yield GATEWAY_STATUSES_RESTORED, (outcome,), count
        yield GATEWAY_STATUSES_READ, (), int(gateway.statuses_read.is_set())
        yield GATEWAY_STATUS_READS_CUT_SHORT, (), gateway.reads_cut_short
        if gateway.series is not None:
            yield from gateway.series.writer.readings()

    return read

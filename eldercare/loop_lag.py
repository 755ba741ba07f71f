"""How long a service's event loop was held: every wait in the service waits that long too.

A call press is handled within milliseconds when the loop is free; when something walks
every home in one piece (a checkpoint, a tick, a registry read, a full garbage collection),
the press waits until it is done. Latency figures on a shared machine mix that with waiting
for a CPU; the loop's own lateness does not depend on the load (issue 18). So a probe asks
the loop to wake it every ``PROBE_S`` and counts how late it woke, against a few bounds:
``eldercare_event_loop_stalls_total{over="0.1"}`` is how often the loop was held > 100 ms.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from eldercare.metrics import Family, Reading

PROBE_S = 0.05
#: Lateness bounds, seconds: a stall longer than each is counted under it.
BOUNDS = (0.025, 0.05, 0.1, 0.25, 1.0)

LOOP_STALLS = Family(
    "eldercare_event_loop_stalls",
    "times the event loop woke a timer later than each bound (seconds)",
    ("over",),
)
LOOP_LAG = Family("eldercare_event_loop_lag_seconds", "the event loop's lateness, summed")


class LoopLag:
    """Counts of late wake-ups, read by ``/metrics`` (``readings``)."""

    def __init__(self) -> None:
        self.stalls = dict.fromkeys(BOUNDS, 0)
        self.lag_s = 0.0

    def record(self, late_s: float) -> None:
        self.lag_s += late_s
        for bound in BOUNDS:
            if late_s > bound:
                self.stalls[bound] += 1

    async def run(self, probe_s: float = PROBE_S) -> None:
        """Until cancelled (wall time: this is about the process, not the clock it serves)."""
        while True:
            due = time.monotonic() + probe_s
            await asyncio.sleep(probe_s)
            self.record(max(0.0, time.monotonic() - due))

    def readings(self) -> Iterator[Reading]:
        for bound, count in self.stalls.items():
            yield LOOP_STALLS, (str(bound),), float(count)
        yield LOOP_LAG, (), self.lag_s

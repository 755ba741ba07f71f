"""Which accelerometer batches the gateway hands on at QoS 1: an impact, the second before
it, and its aftermath.

Telemetry goes to the detector at QoS 0 (DESIGN: a PUBACK per one-second batch of every
streaming pendant is CPU spent on data that may be lost). But the broker queues nothing at
QoS 0 for a session that is offline: while a detector restarts, or while a killed
instance's shards wait for their leases to lapse (15 s by default), every batch is dropped,
and a fall whose impact lands then was lost unless the pendant reported it itself. So a
batch holding an impact-sized sample, and the pendant's batches for ``AFTERMATH_S`` after
it, go at QoS 1: the broker keeps them for the detector's persistent session, and the next
detector decides the impact on them. The batch *before* the impact is sent again too, at
QoS 1, just ahead of it: the detector reads the posture before the impact from it (started
at the impact's own batch, a replay of SisFall-dev's falls found 6 of 1125; one batch
earlier, 1093). A detector that already had it takes nothing new from the copy: its stream
drops samples at or before the last it saw (``StreamResampler.push``). Calm hours have no
impact, so the cost is a few QoS 1 batches per impact, and each streaming pendant's last
batch kept here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eldercare.bounded import LruDict
from eldercare.models import Metric, Telemetry

#: Below the detector's smallest impact candidate (1.6 g, ``FallConfig.candidate_g``), so no
#: impact it would score is left at QoS 0; a model trained for a lower one would need this
#: lowered too.
IMPACT_G = 1.5
#: From a batch's first sample: the batch itself (≤ 1 s), the detector's 3 s aftermath and
#: a second of margin for the next batch's boundary.
AFTERMATH_S = 5.0
#: Pendants followed at once (a batch of 1–3 KB each); the least recent goes first.
MAX_PENDANTS = 20_000


class ImpactQos:
    """Per pendant, its last batch and until when its batches go at QoS 1."""

    def __init__(self) -> None:
        self._until: LruDict[tuple[str, str], datetime] = LruDict(MAX_PENDANTS)
        self._last: LruDict[tuple[str, str], bytes] = LruDict(MAX_PENDANTS)

    def batches(self, telemetry: Telemetry, body: bytes) -> list[tuple[bytes, int]]:
        """What to publish for this telemetry, with each one's QoS: the body at QoS 0, or at
        QoS 1 within an impact's window, which an impact opens with the previous batch's
        copy."""
        if telemetry.metric is not Metric.ACCEL:
            return [(body, 0)]
        key = (telemetry.home, telemetry.device)
        previous, self._last[key] = self._last.get(key), body
        until = self._until.get(key)
        if _holds_an_impact(telemetry):
            self._until[key] = telemetry.ts + timedelta(seconds=AFTERMATH_S)
            opens = until is None or telemetry.ts >= until
            return [(previous, 1), (body, 1)] if opens and previous else [(body, 1)]
        if until is not None and telemetry.ts < until:
            return [(body, 1)]
        if until is not None:
            self._until.pop(key)
        return [(body, 0)]


def _holds_an_impact(telemetry: Telemetry) -> bool:
    limit = IMPACT_G * IMPACT_G
    return any(x * x + y * y + z * z >= limit for x, y, z in telemetry.samples or ())

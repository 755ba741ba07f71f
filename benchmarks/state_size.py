"""Part 4 of the bench: detector state per home (DESIGN §8: < 2 KiB at 100 k homes).

Measured in-process, as ``benchmarks/inactivity_state.py`` does for one rule: every rule the
detector runs (``detector.service.default_rules``) is fed a morning's worth of a home's
typical messages (each room's motion sensor, the doors, bed, toilet, hub heartbeat, a
climate reading), for N homes. Reported per home: the Python heap the rules hold
(tracemalloc) and the checkpoint bytes a restart would read back. The homes are identical,
so the inactivity rule's deflated snapshot shrinks to almost nothing: that checkpoint figure
is a lower bound (``learned_state.py`` gives learned homes' bytes).
"""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from detector.checkpoint import Checkpointable
from detector.service import default_rules
from eldercare.models import Event, EventType, Metric, Telemetry
from simulator.layout import BED, CLIMATE, FRONT_DOOR, HUB, PIR, TOILET

START = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
MORNING: tuple[tuple[str, EventType], ...] = (
    (BED, EventType.BED_EMPTY),
    *((device, EventType.MOTION) for device in PIR.values()),
    (TOILET, EventType.TOILET_FLUSH),
    (FRONT_DOOR, EventType.DOOR_OPEN),
    (FRONT_DOOR, EventType.DOOR_CLOSE),
    (HUB, EventType.HEARTBEAT),
)


@dataclass(frozen=True, slots=True)
class StateSize:
    homes: int
    heap_bytes_per_home: float
    checkpoint_bytes_per_home: float


def state_size(homes: int) -> StateSize:
    rules = default_rules()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(homes):
            home = f"h-{number:06d}"
            for seq, (device, kind) in enumerate(MORNING):
                at = START + timedelta(minutes=5 * seq)
                event = Event.model_construct(home=home, device=device, seq=seq, ts=at, type=kind)
                for rule in rules:
                    rule.on_event(event, at)
            reading = Telemetry(
                home=home, device=CLIMATE, seq=0, ts=at, metric=Metric.TEMPERATURE, value=21.5
            )
            for rule in rules:
                rule.on_telemetry(reading, at)
        del event, reading
        gc.collect()
        heap = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    checkpoint = sum(len(r.snapshot()) for r in rules if isinstance(r, Checkpointable))
    return StateSize(homes, heap / homes, checkpoint / homes)

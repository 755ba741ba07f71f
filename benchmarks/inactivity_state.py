"""Detector state per home for the inactivity rule (DESIGN §8: < 2 KiB per home).

Creates N homes with a day of typical events each (four motion sensors and a front door,
as the simulator's flats) and reports Python heap per home (tracemalloc) and checkpoint
bytes per home. Run: ``python benchmarks/inactivity_state.py 20000``.

Every home gets the same events, so the deflated checkpoint (~30 B per home) is a lower
bound only; ``learned_state.py`` measures homes that learned from real recordings. Figures
before and after the compaction of 2026-12-07 are in docs/inactivity.md, "State size".
"""

from __future__ import annotations

import sys
import tracemalloc
from datetime import UTC, datetime, timedelta

from detector.activity.rule import InactivityRule
from eldercare.models import Event, EventType

DEVICES = ("pir-bedroom", "pir-kitchen", "pir-living", "pir-bath", "door-front")


def main(homes: int) -> None:
    start = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    events = []
    for minute in range(0, 16 * 60, 7):
        device = DEVICES[minute % len(DEVICES)]
        kind = EventType.DOOR_OPEN if device == "door-front" else EventType.MOTION
        events.append((device, kind, start + timedelta(minutes=minute)))
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    rule = InactivityRule()
    for number in range(homes):
        home = f"h-{number:06d}"
        for seq, (device, kind, at) in enumerate(events):
            event = Event(home=home, device=device, seq=seq, ts=at, type=kind)
            rule.on_event(event, at)
    after = tracemalloc.take_snapshot()
    heap = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    checkpoint = len(rule.snapshot())
    print(f"homes={homes} heap_per_home={heap / homes:.0f} B", end=" ")
    print(f"checkpoint_per_home={checkpoint / homes:.0f} B")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)

"""Garbage collection whose pauses do not grow with a service's state.

CPython's full (generation 2) collection walks every object the collector tracks. At
10 000 homes a service holds about a million of them (registry, liveness, rule state), and
in ``eldercare bench`` full collections took 0.2-0.67 s each (once 1.6 s), some thirty in a
70 s run across the services, each holding the event loop and every call press waiting in
it (issue 18). State that has lived a while is therefore frozen (``gc.freeze``: left out of
collections): every ``FREEZE_EVERY_S`` what is not frozen yet is collected, which is only
what was made since the last time and so quick, and what survived is frozen. Every second,
not every ten: the gateway makes long-lived objects with every message (duplicate window,
liveness), and ten seconds of them still cost 30-135 ms automatic full collections.

Frozen objects are still freed by reference counting when dropped; only reference cycles
among them wait, until the full collection every ``FULL_EVERY_S`` (unfreeze, collect,
freeze): one pause an hour instead of several a minute.
"""

from __future__ import annotations

import asyncio
import gc
import time

from eldercare.logs import get_logger

log = get_logger("heap")

FREEZE_EVERY_S = 1.0
FULL_EVERY_S = 3600.0


async def keep_heap_frozen(
    freeze_every_s: float = FREEZE_EVERY_S, full_every_s: float = FULL_EVERY_S
) -> None:
    """Until cancelled (wall time: this is about the process, not the clock it serves)."""
    last_full = time.monotonic()
    while True:
        await asyncio.sleep(freeze_every_s)
        full = time.monotonic() - last_full >= full_every_s
        if full:
            gc.unfreeze()
            last_full = time.monotonic()
        started = time.perf_counter()
        found = gc.collect()
        gc.freeze()
        if full:
            log.info(
                "heap_full_collection",
                seconds=round(time.perf_counter() - started, 3),
                unreachable=found,
                frozen=gc.get_freeze_count(),
            )

"""Work side by side across keys, one at a time and in order within a key.

The dashboard's alert updates were handled one at a time: a call press's update waited up
to ~150 ms behind the previous alert's "notified" (issue 18), though the two have nothing
to do with each other. What must keep its order is one alert's steps (a wall must not show
"acknowledged" and then "notified"). ``KeyedLanes.start`` runs each piece of work after the
previous one of its key only, and at most ``limit`` at once: past that, ``start`` waits, so
a flood holds up its sender instead of growing without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from eldercare.logs import get_logger

log = get_logger("keyed_lanes")


class KeyedLanes:
    """Runs work per key in the order started; different keys run side by side."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        #: The newest work of each key that has not ended yet (what the next one waits for).
        self._newest: dict[str, asyncio.Task[Any]] = {}

    async def start(self, key: str, work: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        """Start ``work`` after the key's earlier work (ended, failed or not); returns its
        task once it is started, waiting first while ``limit`` pieces are unfinished."""
        await self._slots.acquire()
        previous = self._newest.get(key)
        task = asyncio.create_task(self._after(key, previous, work))
        self._newest[key] = task
        task.add_done_callback(lambda done: self._ended(key, done))
        return task

    async def _after(
        self, key: str, previous: asyncio.Task[Any] | None, work: Callable[[], Awaitable[object]]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # ended, whatever its outcome (logged below)
        try:
            await work()
        except Exception:
            # Nobody awaits this task: a failure is logged here or never seen.
            log.exception("keyed_work_failed", key=key)

    def _ended(self, key: str, task: asyncio.Task[Any]) -> None:
        self._slots.release()
        if self._newest.get(key) is task:
            del self._newest[key]

    async def idle(self) -> None:
        """Return once all work started so far has ended (failures are logged, not raised)."""
        while self._newest:
            await asyncio.wait(list(self._newest.values()))

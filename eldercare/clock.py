"""Time as a dependency, so tests can live through days of a home in seconds.

Every component asks its ``Clock`` for the time and sleeps through it. ``RealClock`` is
the wall clock; ``SimulatedClock`` only moves when told to, waking sleepers in due-time
order, which makes escalation tiers and inactivity timers testable without real waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` of this clock's time."""
        ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Wall time running ``speed`` times faster from ``anchor`` (a wall-clock instant).

    For demos and for tests that run a service as a real subprocess: every process given
    the same anchor and speed agrees on the time, so a restarted process resumes its
    timers exactly where the killed one left them, minutes of escalation in seconds.
    """

    def __init__(self, anchor: datetime, speed: float) -> None:
        if anchor.tzinfo is None:
            raise ValueError("ScaledClock needs a timezone-aware anchor")
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.anchor = anchor
        self.speed = speed

    def now(self) -> datetime:
        return self.anchor + (datetime.now(UTC) - self.anchor) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class SimulatedClock:
    """A clock that advances only through ``advance``/``advance_to``.

    Sleepers are woken one due time at a time, and the event loop gets a chance to run
    between steps, so a timer that re-arms itself sees the time it expects.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("SimulatedClock needs a timezone-aware start")
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._tiebreak = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        due = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (due, next(self._tiebreak), future))
        await future

    def set(self, when: datetime) -> None:
        """Move time without waking anyone: for synchronous code that only reads ``now``."""
        if when < self._now:
            raise ValueError("time does not go backwards")
        self._now = when

    async def advance(self, seconds: float) -> None:
        await self.advance_to(self._now + timedelta(seconds=seconds))

    async def advance_to(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("time does not go backwards")
        await _settle()
        while self._sleepers and self._sleepers[0][0] <= when:
            due, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, due)
            if not future.done():
                future.set_result(None)
            await _settle()
        self._now = when
        await _settle()


async def _settle(rounds: int = 5) -> None:
    """Let woken tasks run until they block again (a few loop turns suffice)."""
    for _ in range(rounds):
        await asyncio.sleep(0)

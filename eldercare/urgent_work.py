"""Work that ordinary work in the same process steps aside for.

A service's sessions share one event loop and one interpreter. When one of them carries
what a person waits for (an alert update on its way to the wall) and another carries a
stream of ordinary traffic (every home's events, for the activity overview), the urgent
handler's database reads each come back to a loop that is busy with the stream: its
thread's answer then waits for the interpreter too (up to the 5 ms switch interval per
round trip, several round trips per query). At 10 000 homes that made the dashboard's
update take 50-300 ms, most of a press's time on its last hop (issue 18). Ordinary work
that checks ``none_running`` before each piece pauses while urgent work runs, so the loop
and the interpreter are free for it; it catches up afterwards (nothing is dropped: the
ordinary session's messages wait in its client's queue).

Urgent work is rare (alert updates, not device traffic), so ordinary work is held only
while alerts are being handled back to back, as in a burst.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class UrgentWork:
    """Counts urgent work in progress; ordinary work waits until there is none."""

    def __init__(self) -> None:
        self._running = 0
        self._none = asyncio.Event()
        self._none.set()

    def begin(self) -> Callable[[], None]:
        """Mark urgent work begun now, also for work that ends in another task (one started
        now, which would otherwise leave ordinary work a turn of the loop before it begins):
        ordinary work waits until it (and all others) ended. Call what this returns when it
        ends (a second call does nothing)."""
        self._running += 1
        self._none.clear()
        ended = False

        def end() -> None:
            nonlocal ended
            if ended:
                return
            ended = True
            self._running -= 1
            if not self._running:
                self._none.set()

        return end

    async def none_running(self) -> None:
        """Return once no urgent work runs (at once when none does)."""
        if self._running:
            await self._none.wait()

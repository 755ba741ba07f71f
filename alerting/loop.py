"""The scheduler loop shared by escalation and outbox: work, then nap on the Clock until the
next due time or until woken (a new alert, a fired tier), whichever comes first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from eldercare.clock import Clock
from eldercare.logs import get_logger

log = get_logger("alerting.loop")

#: Even with nothing due, look again this often (clock seconds): another instance may have
#: planned timers that this one was not woken for.
MAX_NAP_S = 30.0
#: After a failed step (database away), wait this long in wall time before trying again.
ERROR_PAUSE_S = 1.0


async def sleep_until(clock: Clock, when: datetime) -> None:
    """Reads the clock when the sleep starts, not when it was asked for: the clock may have
    moved in between (a simulated one jumps), and a due time must never be overshot."""
    await clock.sleep((when - clock.now()).total_seconds())


async def nap(clock: Clock, until: datetime, wake: asyncio.Event) -> None:
    sleeper = asyncio.ensure_future(sleep_until(clock, until))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def work_loop(
    name: str,
    clock: Clock,
    step: Callable[[], Awaitable[datetime | None]],
    wake: asyncio.Event,
    max_nap_s: float = MAX_NAP_S,
) -> None:
    """Run ``step`` (which returns when it next has work) until cancelled; never dies."""
    while True:
        wake.clear()  # before the step: a wake-up during it must not be lost
        try:
            due = await step()
        except Exception:
            log.exception("loop_step_failed", loop=name)
            await asyncio.sleep(ERROR_PAUSE_S)
            continue
        now = clock.now()
        until = now + timedelta(seconds=max_nap_s)
        if due is not None and due < until:
            until = due
        if until > now:
            await nap(clock, until, wake)
        else:
            await asyncio.sleep(0)

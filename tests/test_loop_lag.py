"""The event-loop probe counts how long the loop was held (eldercare/loop_lag.py)."""

from __future__ import annotations

import asyncio
import time

from eldercare.loop_lag import LOOP_LAG, LOOP_STALLS, LoopLag


async def test_a_loop_held_for_300_ms_counts_as_one_stall_over_each_lower_bound() -> None:
    lag = LoopLag()
    probe = asyncio.create_task(lag.run(probe_s=0.01))
    await asyncio.sleep(0.05)  # the probe is waiting on its timer
    time.sleep(0.3)  # noqa: ASYNC251 - the point: something holds the loop in one piece
    await asyncio.sleep(0.05)
    probe.cancel()

    assert lag.stalls[0.25] == 1
    assert lag.stalls[1.0] == 0
    assert lag.lag_s >= 0.25
    readings = {(family, labels): value for family, labels, value in lag.readings()}
    assert readings[(LOOP_STALLS, ("0.25",))] == 1
    assert readings[(LOOP_LAG, ())] == lag.lag_s

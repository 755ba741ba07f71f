"""Work side by side across keys, in order within a key, bounded (issue 18)."""

from __future__ import annotations

import asyncio

from eldercare.keyed_lanes import KeyedLanes


async def test_a_keys_work_runs_in_order_even_after_a_failure_and_other_keys_do_not_wait() -> None:
    lanes, done = KeyedLanes(limit=8), []
    release = asyncio.Event()

    async def step(name: str, *, wait: bool = False, fail: bool = False) -> None:
        if wait:
            await release.wait()
        if fail:
            raise RuntimeError(name)
        done.append(name)

    await lanes.start("a", lambda: step("a1", wait=True, fail=True))
    await lanes.start("a", lambda: step("a2"))
    await lanes.start("b", lambda: step("b1"))
    await asyncio.sleep(0.01)
    assert done == ["b1"], "b does not wait for a; a2 waits for a1"
    release.set()
    await lanes.idle()
    assert done == ["b1", "a2"], "a1's failure is logged, a2 still runs after it"


async def test_start_waits_while_the_limit_is_reached() -> None:
    lanes, release = KeyedLanes(limit=2), asyncio.Event()
    for key in ("a", "b"):
        await lanes.start(key, release.wait)
    third = asyncio.create_task(lanes.start("c", release.wait))
    await asyncio.sleep(0.01)
    assert not third.done()
    release.set()
    await asyncio.wait_for(third, 1)
    await lanes.idle()

"""``eldercare.heap``: long-lived state leaves the collector's walk; cycles among it are still
collected, by the periodic full collection. In a subprocess: freezing is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import asyncio, gc, json, weakref
from eldercare.heap import keep_heap_frozen

class Node:
    pass

state = [[n] for n in range(200_000)]  # a service's long-lived state (tracked)
a, b = Node(), Node()
a.other, b.other = b, a
dead = weakref.ref(a)
held = [a]
del a, b

async def main():
    task = asyncio.create_task(keep_heap_frozen(freeze_every_s=0.05, full_every_s=1.0))
    await asyncio.sleep(0.2)
    frozen = gc.get_freeze_count()
    held.clear()  # the cycle is garbage now, but frozen
    gc.collect()
    kept_while_frozen = dead() is not None
    await asyncio.sleep(1.2)  # past the full collection
    task.cancel()
    print(json.dumps({"frozen": frozen, "kept_while_frozen": kept_while_frozen,
                      "collected_by_full": dead() is None, "state": len(state)}))

asyncio.run(main())
"""


def test_state_is_frozen_and_frozen_cycles_wait_for_the_full_collection() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["frozen"] > 200_000  # the state is out of every collection's walk
    assert result["kept_while_frozen"]
    assert result["collected_by_full"]

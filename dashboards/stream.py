"""Fan-out of alert updates to every open SSE connection, each filtered to what its viewer
may see.

Every frame carries the home's placement (home, station, centre); each client's stream
applies ``scope.may_see`` for its own principal before a byte leaves the server, so a
station screen never receives another station's alert, not even hidden in the page.

A slow browser gets its own bounded queue; when it overflows that client is dropped (it
reconnects and reloads the list) rather than slowing down every other station screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from dashboards.scope import Placement
from eldercare.logs import get_logger

log = get_logger("dashboard.stream")

QUEUE_LIMIT = 1000
KEEPALIVE_S = 15.0
KEEPALIVE = ": keepalive\n\n"
RECHECK_S = 60.0

Frame = tuple[Placement, str]


class Broadcaster:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Frame | None]] = set()

    @property
    def listeners(self) -> int:
        return len(self._queues)

    def publish(self, event: str, data: dict[str, object], placement: Placement) -> None:
        frame = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
        for queue in list(self._queues):
            try:
                queue.put_nowait((placement, frame))
            except asyncio.QueueFull:
                log.warning("sse_client_dropped", reason="queue full")
                self._queues.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)  # ends that client's stream; its browser reconnects

    async def frames(self, allowed: Callable[[Placement], bool]) -> AsyncIterator[str]:
        """SSE frames for one client, only those ``allowed``; comments keep proxies open."""
        queue: asyncio.Queue[Frame | None] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        try:
            yield ": connected\n\n"
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_S):  # 3.11's wait_for loses cancels
                        item = await queue.get()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                if item is None:
                    return
                placement, frame = item
                if allowed(placement):
                    yield frame
        finally:
            self._queues.discard(queue)


async def while_valid(
    frames: AsyncIterator[str], still_valid: Callable[[], Awaitable[bool]]
) -> AsyncIterator[str]:
    """Ends a stream soon after its login ended (logout, expiry, disabled user), so an open
    screen does not go on receiving alerts it may no longer see. Checked at each keepalive
    and, on a busy stream, at least every ``RECHECK_S``."""
    loop = asyncio.get_running_loop()
    checked = loop.time()
    async with contextlib.aclosing(frames):  # type: ignore[type-var]
        async for frame in frames:
            if frame == KEEPALIVE or loop.time() - checked >= RECHECK_S:
                checked = loop.time()
                if not await still_valid():
                    log.info("sse_client_ended", reason="login no longer valid")
                    return
            yield frame

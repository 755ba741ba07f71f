"""Fan-out of alert updates to every open SSE connection.

A slow browser gets its own bounded queue; when it overflows that client is dropped (it
reconnects and reloads the list) rather than slowing down every other station screen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from eldercare.logs import get_logger

log = get_logger("dashboard.stream")

QUEUE_LIMIT = 1000
KEEPALIVE_S = 15.0


class Broadcaster:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()

    @property
    def listeners(self) -> int:
        return len(self._queues)

    def publish(self, event: str, data: dict[str, object]) -> None:
        frame = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
        for queue in list(self._queues):
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:
                log.warning("sse_client_dropped", reason="queue full")
                self._queues.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)  # ends that client's stream; its browser reconnects

    async def frames(self) -> AsyncIterator[str]:
        """SSE frames for one client; a comment line now and then keeps proxies from closing."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        try:
            yield ": connected\n\n"
            while True:
                try:
                    frame = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if frame is None:
                    return
                yield frame
        finally:
            self._queues.discard(queue)

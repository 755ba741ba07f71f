"""The bench's alert wall on a thread and an event loop of its own.

The wall stamps each alert frame as it arrives (``chaos.observers.Wall``). On the bench's
event loop, which also publishes the background load (1 500 messages a second at 10 000
homes), a frame waited for that loop (up to 17 stalls over 50 ms in a 10 s press phase), and
the wait counted as the dashboard's hop. A station's screen is a browser of its own: here,
a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType
from typing import Self

from chaos.observers import Wall


class WallThread:
    """``wall.watch()`` on its own thread until the ``with`` block ends. The wall's list of
    sightings and its ``connected`` flag are read from the bench's thread (one append, one
    flag: safe under the interpreter lock)."""

    def __init__(self, wall: Wall) -> None:
        self.wall = wall
        self._thread = threading.Thread(target=self._run, name="bench-wall", daemon=True)
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        self._started.wait()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._watch())

    async def _watch(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.wall.watch()

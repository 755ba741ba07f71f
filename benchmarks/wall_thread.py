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
from collections.abc import Iterator

from chaos.observers import Wall


@contextlib.contextmanager
def wall_thread(wall: Wall) -> Iterator[None]:
    """``wall.watch()`` on its own thread until the block ends. The wall's sightings and
    its ``connected`` flag are read from the bench's thread (one append, one flag: safe
    under the interpreter lock)."""
    started = threading.Event()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[None] | None]] = []

    async def watch() -> None:
        running.append((asyncio.get_running_loop(), asyncio.current_task()))
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await wall.watch()

    thread = threading.Thread(target=asyncio.run, args=(watch(),), name="bench-wall", daemon=True)
    thread.start()
    started.wait()
    try:
        yield
    finally:
        loop, task = running[0]
        if task is not None:
            loop.call_soon_threadsafe(task.cancel)
        thread.join(timeout=10)

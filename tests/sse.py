"""A small SSE reader for tests: collects ``event``/``data`` frames into a queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


@contextlib.asynccontextmanager
async def sse_events(
    client: httpx.AsyncClient, url: str
) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    opened = asyncio.Event()

    async def read() -> None:
        async with client.stream("GET", url, timeout=None) as response:
            response.raise_for_status()
            event = None
            async for line in response.aiter_lines():
                if line.startswith(": connected"):
                    opened.set()
                elif line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    await queue.put({"event": event, **json.loads(line.removeprefix("data:"))})

    task = asyncio.create_task(read())
    try:
        await asyncio.wait_for(opened.wait(), 5)
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task

"""An HTTP server that runs as one task among a process's services (dashboard, metrics)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

GRACEFUL_S = 2


class EmbeddedServer(uvicorn.Server):
    """uvicorn as one task among the process's services.

    Signals belong to the process (``eldercare.shutdown`` cancels every service on them):
    uvicorn's own handlers stopped only the web server and left the other services of the
    demo running. Cancellation instead asks uvicorn to close its connections, briefly.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve_until_cancelled(self) -> None:
        serving = asyncio.ensure_future(self.serve())
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            self.should_exit = True
            await asyncio.wait({serving}, timeout=GRACEFUL_S + 1)
            raise

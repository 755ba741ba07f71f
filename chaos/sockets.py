"""A real TCP server on a free local port, for receivers that stand in for the outside world
(a station's webhook, an SMTP relay): the harness and the tests answer with real sockets."""

from __future__ import annotations

import asyncio
from typing import Self


class LocalSocketServer:
    """Listens on 127.0.0.1 for the life of ``async with``; subclasses answer in ``_serve``."""

    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

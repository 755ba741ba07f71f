"""A TCP forwarder a test can cut, between a service and a real server (PostgreSQL).

Cutting drops every connection through it and refuses new ones, as a network failure or
a database restart does; restoring listens again on the same port. ``cut_on`` cuts at
the moment the client sends a given byte string (say an alert id in a query's
parameters), so a test can fail a connection in the middle of one particular write.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from eldercare.broker import free_port


class TcpProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.cuts = 0
        self.cut_on: bytes | None = None
        #: Which occurrence of ``cut_on`` cuts (1: the first message that carries it).
        self.cut_on_occurrence = 1
        self._seen = 0
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> Self:
        await self.restore()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def restore(self) -> None:
        """Listen (again) on ``port``."""
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def cut(self) -> None:
        """Refuse new connections and drop the open ones without a goodbye (the listening
        socket closes at once, so ``restore`` can listen on the port again)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._streams):
            writer.transport.abort()
        self._streams.clear()
        self.cuts += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._streams |= {writer, upstream_writer}
        try:
            await asyncio.gather(
                self._pump(reader, upstream_writer, watch=True),
                self._pump(upstream_reader, writer, watch=False),
            )
        finally:
            for stream in (writer, upstream_writer):
                self._streams.discard(stream)
                stream.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if watch and self._should_cut(data):
                    self.cut()  # the matching bytes never reach the server
                    return
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    def _should_cut(self, data: bytes) -> bool:
        if self.cut_on is None or self.cut_on not in data:
            return False
        self._seen += 1
        if self._seen != self.cut_on_occurrence:
            return False
        self.cut_on = None
        return True

"""The notification receiver: every recipient's webhook (apprise ``json://``) lands here.

Its log — path, idempotency key, arrival time — is what the notification invariants are
checked against: what a station's phone would really have received, not what alerting
believes it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from chaos.sockets import LocalSocketServer

MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Delivery:
    path: str
    key: str
    at: float  # time.monotonic()


class NotificationReceiver(LocalSocketServer):
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
            async with asyncio.timeout(30):
                request = (await reader.readline()).decode(errors="replace").split()
                headers: dict[str, str] = {}
                while (line := (await reader.readline()).decode(errors="replace").strip()) != "":
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                await reader.readexactly(min(int(headers.get("content-length", "0")), MAX_BODY))
                writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                await writer.drain()
                if len(request) >= 2:
                    path = request[1].split("?")[0]
                    key = headers.get("idempotency-key", "")
                    self.deliveries.append(Delivery(path, key, time.monotonic()))
        writer.close()

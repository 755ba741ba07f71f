"""The bench's publisher: QoS 1 with a window of publishes in flight, never one round trip
per message (that would make the publisher, not the system under test, the limit)."""

from __future__ import annotations

import asyncio
import logging
import socket
from types import TracebackType
from typing import Self

import aiomqtt

WINDOW = 200
#: aiomqtt warns of every publish waiting for its PUBACK: here that is the point.
QUIET = logging.getLogger("benchmarks.publisher.mqtt")
QUIET.setLevel(logging.ERROR)


class Publisher:
    def __init__(self, port: int) -> None:
        self.client = aiomqtt.Client(
            "127.0.0.1", port, max_inflight_messages=WINDOW * 2, logger=QUIET
        )
        self.sent = 0

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        # Like the services' connections (eldercare.bus): no Nagle delay on small packets.
        self.client._client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.client.__aexit__(kind, error, trace)

    async def send(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish all of them, ``WINDOW`` in flight at a time; returns once all are acked."""
        for start in range(0, len(messages), WINDOW):
            window = messages[start : start + WINDOW]
            await asyncio.gather(*(self.client.publish(t, p, qos=1) for t, p in window))
            self.sent += len(window)

"""The incoming queue of a sampled (QoS 0) session: when full, the oldest message goes.

A QoS 1 session's backlog waits on the broker, which sends no more than its in-flight window
until the service acknowledges. A QoS 0 session gets everything at once, so when its handler
falls behind (a burst, or the dashboard's activity feed stepping aside while alert updates
are handled, ``eldercare.urgent_work``) the client's queue would grow without limit: memory
fed by every home's traffic. Such a session only samples (an activity overview, the input
stall witness), where the newest messages matter most, so the oldest is shed and counted.
aiomqtt's own bound drops the newest and logs a warning per message: a log line per shed
message at 1 500 messages a second is a flood of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiomqtt

#: Messages a sampled session holds before it sheds: ~7 s of a 10 000-home district's
#: traffic (1 500 msg/s), a few MB.
SAMPLED_BACKLOG = 10_000


class SheddingQueue(asyncio.Queue[aiomqtt.Message]):
    """An ``asyncio.Queue`` whose ``put_nowait`` makes room by dropping the oldest message."""

    def __init__(self, maxsize: int, on_shed: Callable[[], None]) -> None:
        super().__init__(maxsize)
        self._on_shed = on_shed

    def put_nowait(self, item: aiomqtt.Message) -> None:
        if self.full():
            self.get_nowait()
            self._on_shed()
        super().put_nowait(item)

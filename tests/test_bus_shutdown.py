"""A service stops when cancelled, even if the cancellation lands inside a publish.

Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's publish) loses a cancellation that
arrives as the PUBACK does; a service then went back to waiting for messages and a test
run hung until CI killed it. The loss is staged here by a publish that swallows the
cancellation after the real publish, against a real broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from eldercare.broker import LocalMosquitto
from eldercare.bus import MqttConnection, Outgoing
from eldercare.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def broker() -> Iterator[LocalMosquitto]:
    with LocalMosquitto() as broker:
        yield broker


async def test_a_cancellation_lost_in_a_publish_still_stops_the_service(
    broker: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_publish = aiomqtt.Client.publish
    swallowing = asyncio.Event()

    async def publish_like_python_311(self: aiomqtt.Client, topic: str, *a: Any, **kw: Any) -> None:
        await real_publish(self, topic, *a, **kw)
        if topic == "out":
            swallowing.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(2)

    monkeypatch.setattr(aiomqtt.Client, "publish", publish_like_python_311)

    async def echo(topic: str, payload: bytes) -> list[Outgoing]:
        return [Outgoing("out", payload)]

    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    connection = MqttConnection(settings, "echo", ["in"], echo)
    task = asyncio.create_task(connection.run())
    async with asyncio.timeout(10):
        await connection.connected.wait()
    async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
        await sender.publish("in", b"x", qos=1)
        async with asyncio.timeout(10):
            await swallowing.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done, "the service ignored its cancellation and waits for the next message"
    assert task.cancelled()

"""A service stops when cancelled, even if the cancellation lands inside a request.

Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's publish, subscribe and unsubscribe)
loses a cancellation that arrives as the broker's answer does; a service then went back to
waiting (for messages, for its next subscription change) and a test run hung until CI
killed it. The loss is staged here by a request that swallows the cancellation after the
real one, against a real broker.
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
from tests.harness import running

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
            await lose_the_cancellation(swallowing)

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
    assert await stops(task, swallowing), "the service waits for the next message"


async def test_a_cancellation_lost_in_a_subscribe_still_stops_the_task(
    broker: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alerting's witness follows its feeds (``set_subscriptions``) in a loop: stopped in a
    subscribe that lost the cancellation, it waited for the next change, and a test stopping
    every service of the process hung (the gateway's start had moved that subscribe to the
    moment of the stop)."""
    real_subscribe = aiomqtt.Client.subscribe
    swallowing = asyncio.Event()

    async def subscribe_like_python_311(self: aiomqtt.Client, *a: Any, **kw: Any) -> Any:
        granted = await real_subscribe(self, *a, **kw)
        if connection.connected.is_set():
            await lose_the_cancellation(swallowing)
        return granted

    monkeypatch.setattr(aiomqtt.Client, "subscribe", subscribe_like_python_311)
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    connection = MqttConnection(settings, "witness", ["in"])

    async def follow() -> None:
        while True:
            await connection.set_subscriptions(["in", "more"])
            await asyncio.Event().wait()

    async with running(connection):
        task = asyncio.create_task(follow())
        assert await stops(task, swallowing), "the task waits for the next change"


async def lose_the_cancellation(swallowing: asyncio.Event) -> None:
    """What ``asyncio.wait_for`` does on Python 3.11 when the broker's answer and a
    cancellation meet: the cancellation is gone, the task still counts it."""
    swallowing.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(2)


async def stops(task: asyncio.Task[None], swallowing: asyncio.Event) -> bool:
    """Once a request is swallowing: cancelled, does ``task`` end as cancelled within 5 s?"""
    async with asyncio.timeout(10):
        await swallowing.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    return bool(done) and task.cancelled()

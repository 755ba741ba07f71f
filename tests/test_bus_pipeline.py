"""Pipelined outputs and live subscriptions on the bus, against a real broker.

A service reads the next message while the previous one's publishes are still waiting for
their PUBACKs, but acknowledges its inputs only in arrival order and only once all of an
input's outputs are at the broker: a crash then redelivers every input whose output may be
missing, never one that is already done. Subscriptions follow ``set_subscriptions`` while
connected and after a reconnect, including changes made while the broker was away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
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


async def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_outputs_are_pipelined_but_inputs_are_acknowledged_in_order(
    broker: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    real_publish = aiomqtt.Client.publish
    held = asyncio.Event()  # the output of input "2" waits for its PUBACK until set

    async def slow_puback(self: aiomqtt.Client, topic: str, *a: Any, **kw: Any) -> None:
        await real_publish(self, topic, *a, **kw)
        if topic == "out/2":
            await held.wait()

    monkeypatch.setattr(aiomqtt.Client, "publish", slow_puback)
    handled: list[bytes] = []

    async def echo(topic: str, payload: bytes) -> list[Outgoing]:
        handled.append(payload)
        return [Outgoing(f"out/{payload.decode()}", payload)]

    async with running(MqttConnection(settings, "svc", ["in"], echo)):
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            for number in (1, 2, 3, 4):
                await sender.publish("in", str(number).encode(), qos=1)
        # 3 and 4 are handled while 2's output is still unconfirmed: no head-of-line wait.
        await wait_until(lambda: len(handled) == 4)
        await asyncio.sleep(0.3)  # time for any (wrong) ack of 3 or 4 to reach the broker
    # Killed there: 1 was acknowledged; 2 was not (its output unconfirmed), nor 3 and 4,
    # whose outputs were at the broker but whose acks must not overtake 2's.
    assert handled == [b"1", b"2", b"3", b"4"]
    handled.clear()
    held.set()
    async with running(MqttConnection(settings, "svc", ["in"], echo)):
        await wait_until(lambda: len(handled) == 3)
        await asyncio.sleep(0.3)
    assert handled == [b"2", b"3", b"4"]
    handled.clear()
    async with running(MqttConnection(settings, "svc", ["in"], echo)):
        await asyncio.sleep(0.5)
    assert handled == [], "acknowledged once every output was confirmed"


async def test_subscriptions_change_live_and_survive_reconnects(
    broker: LocalMosquitto, tmp_path: Path
) -> None:
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    received: list[str] = []

    async def record(topic: str, payload: bytes) -> list[Outgoing]:
        received.append(topic)
        return []

    async def publish_each(*topics: str) -> None:
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            for topic in topics:
                await sender.publish(topic, b"x", qos=1)

    async with running(MqttConnection(settings, "lane", ["a"], record)) as connection:
        await connection.set_subscriptions(["b", "c"])
        assert connection.subscriptions == ["b", "c"]
        await publish_each("a", "b", "c")
        await wait_until(lambda: len(received) == 2)
        await asyncio.sleep(0.2)
        assert sorted(received) == ["b", "c"], "a was unsubscribed at once"

        # Changed while the broker is away: applied when the connection comes back.
        broker.stop()
        await wait_until(lambda: not connection.connected.is_set())
        await connection.set_subscriptions(["c", "d"])
        broker.start()
        await wait_until(connection.connected.is_set)
        received.clear()
        await publish_each("a", "b", "c", "d")
        await wait_until(lambda: len(received) == 2)
        await asyncio.sleep(0.2)
        assert sorted(received) == ["c", "d"], "b unsubscribed and d subscribed on reconnect"

        # Told only the difference (the gateway's lane): what was not followed is ignored.
        await connection.change_subscriptions(["e", "d"], ["c", "b"])
        assert connection.subscriptions == ["d", "e"]
        received.clear()
        await publish_each("a", "b", "c", "d", "e")
        await wait_until(lambda: len(received) == 2)
        await asyncio.sleep(0.2)
        assert sorted(received) == ["d", "e"], "c unsubscribed and e subscribed at once"

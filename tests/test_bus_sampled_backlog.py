"""A sampled (QoS 0) session that falls behind keeps the newest messages, in bounded memory.

Its backlog is in the process (the broker sends QoS 0 at once), so without a bound a handler
that waits (the dashboard's activity feed stepping aside for alert updates) would let every
home's traffic pile up in memory. Against a real broker: the oldest are shed and counted,
the newest handled, and a QoS 1 session is not bounded this way (its backlog waits on the
broker).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

from eldercare import bus
from eldercare.broker import LocalMosquitto
from eldercare.bus import MqttConnection, Outgoing
from eldercare.metrics import MESSAGES_SHED, connection_readings
from eldercare.settings import Settings
from tests.harness import running

pytestmark = pytest.mark.integration

BACKLOG, SENT = 20, 200


@pytest.fixture
def broker() -> Iterator[LocalMosquitto]:
    with LocalMosquitto() as broker:
        yield broker


async def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_sampled_session_behind_sheds_the_oldest_and_counts_them(
    broker: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "SAMPLED_BACKLOG", BACKLOG)
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    release = asyncio.Event()
    handled: list[int] = []

    async def slow(topic: str, payload: bytes) -> list[Outgoing]:
        handled.append(int(payload))
        await release.wait()  # the handler is behind until released
        return []

    connection = MqttConnection(settings, "sampled", ["feed"], slow, persistent=False, qos=0)
    async with running(connection):
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            await sender.publish("feed", b"0", qos=0)
            await wait_until(lambda: handled == [0])  # the handler now holds message 0
            for number in range(1, SENT):
                await sender.publish("feed", str(number).encode(), qos=0)
        await wait_until(lambda: connection.shed == SENT - 1 - BACKLOG)
        release.set()
        await wait_until(lambda: len(handled) == 1 + BACKLOG)
        await asyncio.sleep(0.2)
    assert handled == [0, *range(SENT - BACKLOG, SENT)], "the newest kept, in order"
    readings = {family: value for family, _, value in connection_readings(connection)()}
    assert readings[MESSAGES_SHED] == SENT - 1 - BACKLOG


async def test_a_qos_1_session_sheds_nothing(
    broker: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "SAMPLED_BACKLOG", BACKLOG)
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    release = asyncio.Event()
    handled: list[int] = []

    async def slow(topic: str, payload: bytes) -> list[Outgoing]:
        handled.append(int(payload))
        await release.wait()
        return []

    connection = MqttConnection(settings, "reliable", ["feed"], slow, persistent=False)
    async with running(connection):
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            for number in range(SENT // 4):
                await sender.publish("feed", str(number).encode(), qos=1)
        await wait_until(lambda: handled == [0])
        release.set()
        await wait_until(lambda: len(handled) == SENT // 4)
    assert handled == list(range(SENT // 4))
    assert connection.shed == 0

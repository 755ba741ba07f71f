"""A sampled (QoS 0) session that falls behind keeps the newest messages, in bounded memory.

Its backlog is in the process (the broker sends QoS 0 at once), so without a bound a handler
that waits (the dashboard's activity feed stepping aside for alert updates) would let every
home's traffic pile up in memory. Against a real broker: the oldest are shed and counted,
the newest handled, and a QoS 1 session is not bounded this way (its backlog waits on the
broker, which sends no more than its in-flight window).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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


async def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def handled_behind(
    broker: LocalMosquitto,
    tmp_path: Path,
    qos: int,
    caught_up: Callable[[MqttConnection], bool],
    expected: int,
) -> tuple[list[int], MqttConnection]:
    """Send ``SENT`` numbered messages at ``qos`` while the handler holds the first, release
    it once ``caught_up`` (everything arrived), and return what was handled once ``expected``
    messages were, in order."""
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    release = asyncio.Event()
    handled: list[int] = []

    async def slow(topic: str, payload: bytes) -> list[Outgoing]:
        handled.append(int(payload))
        await release.wait()
        return []

    connection = MqttConnection(settings, "behind", ["feed"], slow, persistent=False, qos=qos)
    async with running(connection):
        async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
            await sender.publish("feed", b"0", qos=qos)
            await wait_until(lambda: handled == [0])  # the handler now holds message 0
            for number in range(1, SENT):
                await sender.publish("feed", str(number).encode(), qos=qos)
        await wait_until(lambda: caught_up(connection))
        release.set()
        await wait_until(lambda: len(handled) == expected)
        await asyncio.sleep(0.2)  # time for anything (wrongly) still queued to be handled
    return handled, connection


async def test_a_sampled_session_behind_sheds_the_oldest_and_counts_them(
    mosquitto: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "SAMPLED_BACKLOG", BACKLOG)
    shed = SENT - 1 - BACKLOG
    handled, connection = await handled_behind(
        mosquitto, tmp_path, 0, lambda connection: connection.shed == shed, 1 + BACKLOG
    )
    assert handled == [0, *range(SENT - BACKLOG, SENT)], "the newest kept, in order"
    readings = {family: value for family, _, value in connection_readings(connection)()}
    assert readings[MESSAGES_SHED] == shed


async def test_a_qos_1_session_sheds_nothing(
    mosquitto: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "SAMPLED_BACKLOG", BACKLOG)
    handled, connection = await handled_behind(mosquitto, tmp_path, 1, lambda _: True, SENT)
    assert handled == list(range(SENT))
    assert connection.shed == 0

"""What the bus does when a handler fails, against a real broker.

A transient failure (the database away) keeps the message unacknowledged until the handler
succeeds, so a kill meanwhile means redelivery; anything else is retried a few times, then
set aside as a dead letter on ``{prefix}/_deadletter/{service}`` and acknowledged, and the
messages behind it keep flowing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy.exc import DBAPIError

from eldercare import bus
from eldercare.broker import LocalMosquitto
from eldercare.bus import Handler, MqttConnection, Outgoing
from eldercare.failures import is_transient
from eldercare.models import DeadLetter
from eldercare.settings import Settings
from tests.harness import running

pytestmark = pytest.mark.integration


@pytest.fixture
def broker() -> Iterator[LocalMosquitto]:
    with LocalMosquitto() as broker:
        yield broker


def connection_dropped() -> DBAPIError:
    """What asyncpg's "connection was closed in the middle of operation" arrives as."""
    return DBAPIError(
        "INSERT INTO alerts",
        {},
        Exception("connection was closed in the middle of operation"),
        connection_invalidated=True,
    )


def consuming(settings: Settings, handler: Handler):  # type: ignore[no-untyped-def]
    """The service "svc" on its persistent session until the block ends (then stopped)."""
    return running(MqttConnection(settings, "svc", ["in"], handler))


async def send(broker: LocalMosquitto, *payloads: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as sender:
        for payload in payloads:
            await sender.publish("in", payload, qos=1)


def test_transient_means_the_infrastructure_is_away_however_it_is_wrapped() -> None:
    assert is_transient(connection_dropped())
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(ValueError("bad payload"))
    assert not is_transient(DBAPIError("INSERT", {}, Exception("value too long")))


async def test_a_transient_failure_is_not_acknowledged_until_the_handler_succeeds(
    broker: LocalMosquitto, tmp_path: Path
) -> None:
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    tries: list[bytes] = []

    async def database_away(topic: str, payload: bytes) -> list[Outgoing]:
        tries.append(payload)
        raise connection_dropped()

    async with consuming(settings, database_away) as connection:
        await send(broker, b"press")
        async with asyncio.timeout(10):
            while len(tries) < 2:
                await asyncio.sleep(0.02)
        assert connection.retries >= 2 and connection.dead_letters == 0
    # killed while waiting: the broker still holds the message for the session
    handled: list[bytes] = []
    failures = [connection_dropped()]

    async def database_back(topic: str, payload: bytes) -> list[Outgoing]:
        if failures:
            raise failures.pop()
        handled.append(payload)
        return []

    async with consuming(settings, database_back):
        async with asyncio.timeout(10):
            while not handled:
                await asyncio.sleep(0.02)
    assert handled == [b"press"]
    # acknowledged once handled: a restart does not see it again
    async with consuming(settings, database_back):
        await asyncio.sleep(0.5)
    assert handled == [b"press"]


async def test_a_poison_message_is_dead_lettered_and_acknowledged_and_the_rest_flow(
    broker: LocalMosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus, "POISON_PAUSE_S", 0.01)
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    handled: list[bytes] = []

    async def buggy(topic: str, payload: bytes) -> list[Outgoing]:
        if payload == b"\xffpoison":
            raise ValueError("no code path takes this")
        handled.append(payload)
        return []

    async with aiomqtt.Client("127.0.0.1", broker.port) as operator:
        await operator.subscribe(settings.topics.all_dead_letters_filter, qos=1)
        async with consuming(settings, buggy) as connection:
            await send(broker, b"\xffpoison", b"press")
            async with asyncio.timeout(10):
                message = await anext(aiter(operator.messages))
                while not handled:
                    await asyncio.sleep(0.02)
            assert handled == [b"press"]
            assert connection.dead_letters == 1
    assert message.topic.value == "eldercare/v1/_deadletter/svc"
    assert isinstance(message.payload, bytes)
    record = DeadLetter.model_validate_json(message.payload)
    assert (record.service, record.topic, record.attempts) == ("svc", "in", bus.POISON_ATTEMPTS)
    assert (record.payload, record.payload_encoding) == ("/3BvaXNvbg==", "base64")
    assert record.error_type == "builtins.ValueError"
    assert record.error == "no code path takes this"
    # set aside means acknowledged: a restart does not get it again
    async with consuming(settings, buggy) as connection:
        await asyncio.sleep(0.5)
        assert connection.dead_letters == 0
    assert handled == [b"press"]


async def test_a_clean_stop_acknowledges_what_was_handled_so_a_restart_does_not_repeat_it(
    broker: LocalMosquitto, tmp_path: Path
) -> None:
    """Stopped right after a handler returned, its outputs still in flight: the stop waits for
    them and acknowledges the input, instead of leaving it to be handled again."""
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    handled: list[bytes] = []
    returned = asyncio.Event()

    async def forward(topic: str, payload: bytes) -> list[Outgoing]:
        handled.append(payload)
        returned.set()
        return [Outgoing("out", payload, qos=1)]

    async with consuming(settings, forward):
        await send(broker, b"press")
        async with asyncio.timeout(10):
            await returned.wait()
        # leaving the block stops the service now, before its output's PUBACK is back
    async with consuming(settings, forward):
        await asyncio.sleep(0.5)
    assert handled == [b"press"]

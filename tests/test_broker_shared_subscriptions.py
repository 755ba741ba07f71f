"""Why alerting's intake does not use an MQTT shared subscription with persistent sessions.

mosquitto keeps handing a share of a ``$share/…`` group's QoS 1 messages to a member whose
persistent session is offline, and holds them until that member comes back. For alerts that
would mean: one instance down, half of all call-button alerts wait for its restart (and for
ever, if it never returns with the same client id). This test pins that behaviour of the
broker we ship; if it ever fails, the decision in docs/alerting.md can be revisited.
"""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from eldercare.broker import LocalMosquitto

pytestmark = pytest.mark.integration

GROUP = "$share/alerting/test/alerts/#"


async def _member(port: int, client_id: str, got: list[str], leave: asyncio.Event) -> None:
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=client_id, clean_session=False
    ) as client:
        await client.subscribe(GROUP, qos=1)
        reader = asyncio.create_task(_read(client, client_id, got))
        await leave.wait()
        reader.cancel()


async def _read(client: aiomqtt.Client, client_id: str, got: list[str]) -> None:
    async for _ in client.messages:
        got.append(client_id)


async def test_an_offline_member_of_a_shared_group_still_gets_its_share(
    mosquitto: LocalMosquitto,
) -> None:
    got: list[str] = []
    leave_a, leave_b, leave_again = asyncio.Event(), asyncio.Event(), asyncio.Event()
    member_a = asyncio.create_task(_member(mosquitto.port, "alerting-a", got, leave_a))
    member_b = asyncio.create_task(_member(mosquitto.port, "alerting-b", got, leave_b))
    await asyncio.sleep(0.5)
    leave_a.set()  # instance a stops; its persistent session stays at the broker
    await member_a
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as detector:
        for number in range(10):
            await detector.publish(f"test/alerts/{number}", b"alert", qos=1)
    await asyncio.sleep(1.0)
    assert got == ["alerting-b"] * 5  # the live instance got only half

    returned = asyncio.create_task(_member(mosquitto.port, "alerting-a", got, leave_again))
    await asyncio.sleep(1.0)
    assert got.count("alerting-a") == 5  # the other half waited for the dead one
    leave_again.set()
    leave_b.set()
    await asyncio.gather(returned, member_b)

"""A broker locked down with the generated accounts, and a spy that may read everything."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import replace

import aiomqtt

from eldercare.broker import LocalMosquitto
from gateway.mqtt_auth import AclRule, BrokerAccounts, hash_password

SPY = "_spy"


def with_spy(accounts: BrokerAccounts) -> BrokerAccounts:
    """The generated accounts plus a test-only one that reads every topic (and writes none),
    to see what really went over the broker."""
    password = secrets.token_urlsafe(16)
    return replace(
        accounts,
        hashes={**accounts.hashes, SPY: hash_password(password)},
        rules={**accounts.rules, SPY: [AclRule("read", "#")]},
        new_passwords={**accounts.new_passwords, SPY: password},
    )


def client(broker: LocalMosquitto, accounts: BrokerAccounts, user: str) -> aiomqtt.Client:
    password = accounts.new_passwords[user]
    return aiomqtt.Client("127.0.0.1", broker.port, username=user, password=password)


def broker_url(broker: LocalMosquitto, accounts: BrokerAccounts, user: str) -> str:
    return f"mqtt://{user}:{accounts.new_passwords[user]}@127.0.0.1:{broker.port}"


async def received_until(
    spy: aiomqtt.Client, sentinel: str, timeout: float = 5
) -> list[tuple[str, bytes]]:
    """Everything the spy gets up to the sentinel topic, then a little more for stragglers."""
    seen: list[tuple[str, bytes]] = []
    async with asyncio.timeout(timeout):
        async for message in spy.messages:
            seen.append((message.topic.value, message.payload))  # type: ignore[arg-type]
            if message.topic.value == sentinel:
                break
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.3):
            async for message in spy.messages:
                seen.append((message.topic.value, message.payload))  # type: ignore[arg-type]
    return seen

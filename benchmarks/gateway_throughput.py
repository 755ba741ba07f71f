"""How many normalised events per second the gateway makes, alone and through mosquitto.

    python benchmarks/gateway_throughput.py [--homes 1000] [--messages 50000]

1. ``Gateway.handle`` in-process on a mix of native contract events and zigbee2mqtt states
   (what the CPU allows, no broker).
2. Through a private mosquitto: a publisher floods raw device topics (QoS 1), the real
   gateway service normalises them, a subscriber counts ``_normalised`` events; next to it
   the raw broker loopback (publisher → subscriber, same messages) measured in the same run,
   because the gateway must not be the bottleneck (DESIGN §8).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import tempfile
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt

from eldercare.broker import LocalMosquitto
from eldercare.clock import RealClock, SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.logs import configure_logging
from eldercare.models import Event, EventType
from eldercare.settings import DeviceRate, DeviceRateLimits, Settings
from gateway.registry import DeviceInfo, Registry, RegistrySnapshot
from gateway.service import Gateway
from gateway.service import run as run_gateway
from gateway.specs import DeviceSpec, HomeSpec, RegistryDocument

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
#: The throughput runs measure normalising, not the per-device limits (every device here sends
#: far more than a real one would); ``over_budget`` measures what a limited message costs.
UNLIMITED = DeviceRateLimits(default=DeviceRate(per_s=1e9, burst=10**9))


def homes(count: int) -> list[str]:
    return [f"h-{number:05d}" for number in range(count)]


def workload(count: int, messages: int, at: datetime = START) -> list[tuple[str, bytes]]:
    """Half native call-button/motion events, half zigbee2mqtt motion/door states."""
    items: list[tuple[str, bytes]] = []
    names = homes(count)
    for number in range(messages):
        home = names[number % count]
        if number % 2 == 0:
            event = Event(
                home=home, device="pir", seq=number, ts=at, type=EventType.MOTION, value={}
            )
            items.append((f"eldercare/v1/{home}/pir/event", event.to_json()))
        else:
            state = {"occupancy": number % 4 == 1, "battery": 90, "linkquality": 100}
            items.append((f"zigbee2mqtt/{home}/z-pir", json.dumps(state).encode()))
    return items


def devices(count: int) -> list[DeviceInfo]:
    return [
        info
        for home in homes(count)
        for info in (
            DeviceInfo(home, "pir", "motion", None, None, 60, None, None),
            DeviceInfo(home, "z-pir", "motion", None, "RTCGQ11LM", None, f"{home}/z-pir", None),
        )
    ]


def run_now(coroutine: Coroutine[Any, Any, Any]) -> Any:
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("handle awaited")


def in_process(count: int, messages: int) -> dict[str, float]:
    gateway = Gateway(Settings(device_rate_limits=UNLIMITED), SimulatedClock(START))
    gateway.set_registry(RegistrySnapshot.of(devices(count)))
    items = workload(count, messages)
    started = time.perf_counter()
    produced = 0
    for topic, payload in items:
        produced += sum(
            1 for out in run_now(gateway.handle(topic, payload)) if "/_normalised/" in out.topic
        )
    elapsed = time.perf_counter() - started
    return {
        "messages_per_s": messages / elapsed,
        "normalised_per_s": produced / elapsed,
        "quarantined": sum(gateway.quarantined.values()),
    }


def over_budget(messages: int) -> dict[str, float]:
    """One device far over its budget (default limits): the cost of a message it floods."""
    gateway = Gateway(Settings(), SimulatedClock(START))
    gateway.set_registry(RegistrySnapshot.of(devices(1)))
    topic, payload = workload(1, 1)[0]
    started = time.perf_counter()
    for _ in range(messages):
        run_now(gateway.handle(topic, payload))
    elapsed = time.perf_counter() - started
    return {"dropped_per_s": messages / elapsed, "dropped": gateway.rate_limiter.dropped}


async def count_until(client: aiomqtt.Client, expected: int, limit_s: float) -> int:
    got = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(limit_s):
            async for _ in client.messages:
                got += 1
                if got >= expected:
                    break
    return got


def no_delay(client: aiomqtt.Client) -> aiomqtt.Client:
    """Like the services' connections (eldercare.bus): no Nagle delay on small packets."""
    client._client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


async def flood(port: int, items: list[tuple[str, bytes]]) -> None:
    async with aiomqtt.Client("127.0.0.1", port, max_inflight_messages=1000) as publisher:
        no_delay(publisher)
        for topic, payload in items:
            await publisher.publish(topic, payload, qos=1)


async def broker_loopback(port: int, items: list[tuple[str, bytes]]) -> float:
    async with aiomqtt.Client("127.0.0.1", port) as sink:
        no_delay(sink)
        await sink.subscribe("eldercare/v1/+/+/event", qos=1)
        await sink.subscribe("zigbee2mqtt/#", qos=1)
        started = time.perf_counter()
        counter = asyncio.create_task(count_until(sink, len(items), 120))
        await flood(port, items)
        got = await counter
        return got / (time.perf_counter() - started)


async def through_broker(count: int, messages: int) -> dict[str, float]:
    # Stamped now: the real clock's gateway rejects events older than 7 days.
    now = datetime.now(UTC)
    events_only = [item for item in workload(count, messages, now) if "/pir/event" in item[0]]
    zigbee_motion = [
        (f"zigbee2mqtt/{home}/z-pir", json.dumps({"occupancy": True}).encode())
        for home in homes(count)
    ]
    with tempfile.TemporaryDirectory() as folder, LocalMosquitto() as broker:
        settings = Settings(
            broker_url=broker.url,
            data_dir=Path(folder),
            log_level="ERROR",
            device_rate_limits=UNLIMITED,
        )
        engine = create_engine(settings.db_url)
        await migrate(engine)
        registry = Registry(engine, RealClock())
        await registry.apply(
            RegistryDocument(
                homes=[
                    HomeSpec(
                        id=home,
                        devices=[
                            DeviceSpec("pir", "motion", heartbeat_s=60),
                            DeviceSpec(
                                "z-pir", "motion", model="RTCGQ11LM", zigbee_name=f"{home}/z-pir"
                            ),
                        ],
                    )
                    for home in homes(count)
                ]
            )
        )
        raw = await broker_loopback(broker.port, events_only)
        gateway = asyncio.create_task(run_gateway(settings, RealClock(), engine))
        await asyncio.sleep(1.5)  # connected and subscribed
        items = events_only + zigbee_motion
        async with aiomqtt.Client("127.0.0.1", broker.port) as sink:
            no_delay(sink)
            await sink.subscribe("eldercare/v1/_normalised/+/+/event", qos=1)
            started = time.perf_counter()
            counter = asyncio.create_task(count_until(sink, len(items), 120))
            await flood(broker.port, items)
            got = await counter
            elapsed = time.perf_counter() - started
        gateway.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gateway
        await engine.dispose()
    return {
        "raw_broker_loopback_per_s": raw,
        "gateway_normalised_events_per_s": got / elapsed,
        "normalised_received": got,
        "expected": len(items),
        "ratio_to_raw": (got / elapsed) / raw,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--broker-messages", type=int, default=20_000)
    arguments = parser.parse_args()
    configure_logging("ERROR")
    print("in-process Gateway.handle:", json.dumps(in_process(arguments.homes, arguments.messages)))
    print("in-process, one device over budget:", json.dumps(over_budget(arguments.messages)))
    result = asyncio.run(through_broker(arguments.homes, arguments.broker_messages))
    print("through mosquitto:", json.dumps(result))


if __name__ == "__main__":
    main()

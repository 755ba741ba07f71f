"""How many normalised events per second the gateway makes, alone and through mosquitto.

    python benchmarks/gateway_throughput.py [--homes 1000] [--messages 50000]
        [--background-per-s 500]

1. ``Gateway.handle`` in-process on a mix of native contract events and zigbee2mqtt states
   (what the CPU allows, no broker).
2. Through a private mosquitto: a publisher floods raw device topics (QoS 1), the real
   gateway service normalises them, a subscriber counts ``_normalised`` events; next to it
   the raw broker loopback (publisher → subscriber, same messages) measured in the same run,
   because the gateway must not be the bottleneck (DESIGN §8).
3. Gateway and detector together (in one process, as the tests run them): events a second
   through both (the detector's own ``handled`` count, from its heartbeats), then call-button
   press → alert latency (p50/p95/p99) while ``--background-per-s`` motion events flow.
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

from eldercare.app.runtime import Service, run_services
from eldercare.broker import LocalMosquitto
from eldercare.clock import RealClock, SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.logs import configure_logging
from eldercare.models import Event, EventType, ServiceHeartbeat
from eldercare.settings import DeviceRate, DeviceRateLimits, Settings
from gateway.registry import DeviceInfo, Registry, RegistrySnapshot
from gateway.service import Gateway
from gateway.service import run as run_gateway
from gateway.specs import DeviceSpec, HomeSpec, RegistryDocument

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
#: The throughput runs measure normalising, not the per-device limits (every device here sends
#: far more than a real one would); ``over_budget`` measures what a limited message costs.
UNLIMITED = DeviceRateLimits(default=DeviceRate(per_s=1e9, burst=10**9))


FLOOD_WINDOW = 200


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
        # A window of publishes in flight: one PUBACK round trip per message would make the
        # publisher, not the system under test, the limit (~300/s here).
        for start in range(0, len(items), FLOOD_WINDOW):
            window = items[start : start + FLOOD_WINDOW]
            await asyncio.gather(*(publisher.publish(t, p, qos=1) for t, p in window))


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
            await sink.subscribe("eldercare/v1/_normalised/+/+/+/event", qos=1)
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


async def detector_handled(client: aiomqtt.Client, at_least: int, limit_s: float) -> int:
    """The detector's ``handled`` count once it reaches ``at_least`` (or the limit passes)."""
    handled = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(limit_s):
            async for message in client.messages:
                beat = ServiceHeartbeat.model_validate_json(message.payload)  # type: ignore[arg-type]
                if beat.service == "eldercare-detector":
                    handled = beat.handled
                    if handled >= at_least:
                        break
    return handled


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def paced(port: int, items: list[tuple[str, bytes]], per_s: float) -> None:
    async with aiomqtt.Client("127.0.0.1", port, max_inflight_messages=1000) as publisher:
        no_delay(publisher)
        started = time.perf_counter()
        for number, (topic, payload) in enumerate(items):
            await publisher.publish(topic, payload, qos=1)
            if (ahead := number / per_s - (time.perf_counter() - started)) > 0:
                await asyncio.sleep(ahead)


async def press_latencies(port: int, names: list[str], every_s: float) -> list[float]:
    """Press each home's call button in turn; seconds from publish to the alert."""
    latencies: list[float] = []
    async with aiomqtt.Client("127.0.0.1", port) as client:
        no_delay(client)
        await client.subscribe("eldercare/v1/+/alerts", qos=1)
        for number, home in enumerate(names):
            press = Event(
                home=home,
                device="btn",
                seq=number + 1,
                ts=datetime.now(UTC),
                type=EventType.CALL_BUTTON,
                value={"press": "single"},
            )
            started = time.perf_counter()
            await client.publish(f"eldercare/v1/{home}/btn/event", press.to_json(), qos=1)
            async with asyncio.timeout(30):
                async for message in client.messages:
                    if json.loads(message.payload)["home"] == home:  # type: ignore[arg-type]
                        break
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(every_s)
    return latencies


async def through_pipeline(count: int, messages: int, background_per_s: float) -> dict[str, float]:
    now = datetime.now(UTC)
    events_only = [item for item in workload(count, messages, now) if "/pir/event" in item[0]]
    with tempfile.TemporaryDirectory() as folder, LocalMosquitto() as broker:
        settings = Settings(
            broker_url=broker.url,
            data_dir=Path(folder),
            log_level="ERROR",
            device_rate_limits=UNLIMITED,
            heartbeat_s=0.5,
        )
        engine = create_engine(settings.db_url)
        await migrate(engine)
        await Registry(engine, RealClock()).apply(
            RegistryDocument(
                homes=[
                    HomeSpec(
                        id=home,
                        devices=[
                            DeviceSpec("pir", "motion", heartbeat_s=60),
                            DeviceSpec("btn", "call_button"),
                        ],
                    )
                    for home in homes(count)
                ]
            )
        )
        services = asyncio.create_task(
            run_services(settings, RealClock(), [Service.GATEWAY, Service.DETECTOR], engine=engine)
        )
        await asyncio.sleep(2.0)  # connected and subscribed
        async with aiomqtt.Client("127.0.0.1", broker.port) as watcher:
            await watcher.subscribe("eldercare/v1/_system/+/heartbeat")
            before = await detector_handled(watcher, 0, 2)
            started = time.perf_counter()
            await flood(broker.port, events_only)
            handled = await detector_handled(watcher, before + len(events_only), 120)
            elapsed = time.perf_counter() - started
        background = workload(count, int(background_per_s * 40), datetime.now(UTC))
        background = [item for item in background if "/pir/event" in item[0]]
        load = asyncio.create_task(paced(broker.port, background, background_per_s))
        latencies = await press_latencies(broker.port, homes(count)[:100], 0.2)
        load.cancel()
        for task in (load, services):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.dispose()
    return {
        "pipeline_events_per_s": (handled - before) / elapsed,
        "detector_handled": handled - before,
        "expected": len(events_only),
        "background_per_s": background_per_s,
        "press_p50_ms": 1000 * percentile(latencies, 0.5),
        "press_p95_ms": 1000 * percentile(latencies, 0.95),
        "press_p99_ms": 1000 * percentile(latencies, 0.99),
        "press_max_ms": 1000 * max(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--broker-messages", type=int, default=20_000)
    parser.add_argument("--background-per-s", type=float, default=500)
    parser.add_argument("--only-pipeline", action="store_true", help="skip parts 1 and 2")
    arguments = parser.parse_args()
    configure_logging("ERROR")
    if not arguments.only_pipeline:
        result = in_process(arguments.homes, arguments.messages)
        print("in-process Gateway.handle:", json.dumps(result))
        print("in-process, one device over budget:", json.dumps(over_budget(arguments.messages)))
        result = asyncio.run(through_broker(arguments.homes, arguments.broker_messages))
        print("through mosquitto:", json.dumps(result))
    result = asyncio.run(
        through_pipeline(arguments.homes, arguments.broker_messages, arguments.background_per_s)
    )
    print("gateway + detector:", json.dumps(result))


if __name__ == "__main__":
    main()

"""Part 1 of the bench: what the broker alone passes, publisher → mosquitto → subscriber.

The yardstick the pipeline is judged against (DESIGN §8), so it must be the broker's rate,
not a client's round trip: Debian's ``mosquitto_pub -l`` (one message per line of its input,
up to ``RAW_INFLIGHT`` QoS 1 messages in flight) into ``mosquitto_sub -C N``, both C. Where
``mosquitto-clients`` is not installed, a paho publisher with a window of publishes in
flight, measured the same way; the result says which.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

import aiomqtt

from benchmarks.publisher import Publisher

TOPIC = "bench/raw"
RAW_INFLIGHT = 100
TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class RawRate:
    messages_per_s: float
    messages: int
    client: str


async def raw_rate(port: int, payloads: list[bytes]) -> RawRate:
    if all(shutil.which(tool) for tool in ("mosquitto_pub", "mosquitto_sub", "stdbuf")):
        rate = await asyncio.to_thread(_mosquitto_clients, port, payloads)
        return RawRate(rate, len(payloads), "mosquitto_pub -l / mosquitto_sub, QoS 1")
    return RawRate(await _paho(port, payloads), len(payloads), "paho window / paho, QoS 1")


def _mosquitto_clients(port: int, payloads: list[bytes]) -> float:
    address = ["-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", TOPIC]
    subscriber = subprocess.Popen(
        # Line-buffered (coreutils' stdbuf), so its SUBACK line shows as soon as it is written.
        ["stdbuf", "-oL", "mosquitto_sub", *address, "-C", str(len(payloads)), "-d"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert subscriber.stdout is not None
        deadline = time.monotonic() + 10
        while b"SUBACK" not in subscriber.stdout.readline():  # subscribed: start the clock
            if time.monotonic() > deadline or subscriber.poll() is not None:
                raise RuntimeError("mosquitto_sub did not subscribe")
        drain = threading.Thread(target=subscriber.stdout.read, daemon=True)
        drain.start()
        started = time.perf_counter()
        publisher = subprocess.Popen(
            ["mosquitto_pub", *address, "-M", str(RAW_INFLIGHT), "--nodelay", "-l"],
            stdin=subprocess.PIPE,
        )
        assert publisher.stdin is not None
        publisher.stdin.write(b"\n".join(payloads) + b"\n")
        publisher.stdin.flush()  # left open: at end of input it disconnects with some in flight
        try:
            subscriber.wait(TIMEOUT_S)
        finally:
            publisher.stdin.close()
            publisher.wait(10)
        return len(payloads) / (time.perf_counter() - started)
    finally:
        subscriber.kill()
        subscriber.wait()


async def _paho(port: int, payloads: list[bytes]) -> float:
    async with aiomqtt.Client("127.0.0.1", port) as sink:
        await sink.subscribe(TOPIC, qos=1)
        started = time.perf_counter()

        async def count() -> None:
            got = 0
            async for _ in sink.messages:
                got += 1
                if got == len(payloads):
                    return

        counter = asyncio.create_task(count())
        async with Publisher(port) as publisher:
            await publisher.send([(TOPIC, payload) for payload in payloads])
        async with asyncio.timeout(TIMEOUT_S):
            await counter
        return len(payloads) / (time.perf_counter() - started)

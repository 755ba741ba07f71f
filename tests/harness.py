"""Runs the real services in-process against a real broker, for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

import aiomqtt

from detector.service import LANE_CLIENT_ID as detector_lane
from eldercare.app.runtime import Service, run_services
from eldercare.broker import LocalMosquitto, free_port
from eldercare.bus import MqttConnection
from eldercare.clock import Clock, RealClock
from eldercare.db import prepared_engine
from eldercare.settings import Settings
from gateway.registry import register_home
from gateway.service import LANE_CLIENT_ID as gateway_lane
from simulator.homes import SimulatedHome

SERVICE_IDS = {
    Service.GATEWAY: "eldercare-gateway",
    Service.DETECTOR: "eldercare-detector",
    Service.ALERTING: "eldercare-alerting",
}
#: A press must be pushed to the wall, not found by a later reload (the wall has no poll), and
#: this bounds that. How fast, p50 to p99 under load, is `eldercare bench`'s figure (README):
#: a CI machine running other tests beside this one cannot hold a one-second wall-clock bound.
PUSHED_WITHIN_S = 5.0
#: Second sessions for life-safety events, online once subscribed.
LANE_IDS = {Service.GATEWAY: gateway_lane, Service.DETECTOR: detector_lane}


def service_process(service: str, data_dir: Path, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """``eldercare run <service>`` as its own process, as in compose: only the ``ELDERCARE_*``
    variables given, output appended to ``log``."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ELDERCARE_")}
    clean.update(ELDERCARE_DATA_DIR=str(data_dir), ELDERCARE_LOG_LEVEL="WARNING")
    clean.update(env)
    data_dir.mkdir(parents=True, exist_ok=True)
    output = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-c", "from eldercare.app.cli import app; app()", "run", service],
        env=clean,
        cwd=data_dir,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )


def make_settings(broker: LocalMosquitto, data_dir: Path, **overrides: object) -> Settings:
    return Settings(
        broker_url=broker.url,
        data_dir=data_dir,
        http_port=free_port(),
        log_json=True,
        log_level="WARNING",
        **overrides,  # type: ignore[arg-type]
    )


async def wait_for_services(
    settings: Settings, service_ids: Iterable[str], timeout: float = 10
) -> None:
    """Wait until each service has announced itself online (retained presence topic)."""
    pending = set(service_ids)
    broker = settings.broker
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(settings.topics.all_service_status_filter)
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                status = json.loads(message.payload)  # type: ignore[arg-type]
                if status["state"] == "online":
                    pending.discard(status["service"])
                if not pending:
                    return


@contextlib.asynccontextmanager
async def running_system(
    settings: Settings,
    homes: Iterable[SimulatedHome],
    clock: Clock | None = None,
    services: Iterable[Service] = tuple(Service),
) -> AsyncIterator[None]:
    """All (or the given) services running as tasks, homes registered, until the block ends."""
    clock = clock or RealClock()
    services = list(services)
    engine = await prepared_engine(settings)
    for home in homes:
        await register_home(engine, home.home_id, home.devices, now=clock.now())
    task = asyncio.create_task(run_services(settings, clock, services, engine=engine))
    try:
        expected = [SERVICE_IDS[s] for s in services if s in SERVICE_IDS]
        expected += [LANE_IDS[s] for s in services if s in LANE_IDS]
        if Service.DASHBOARD in services:
            expected.append(f"eldercare-dashboard-{settings.http_port}")
        await wait_for_services(settings, expected)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.dispose()


@contextlib.asynccontextmanager
async def running(connection: MqttConnection) -> AsyncIterator[MqttConnection]:
    """A connection consuming until the block ends (then cancelled, as on SIGTERM)."""
    async with task_running(connection.run(), connection.connected.wait):
        yield connection


@contextlib.asynccontextmanager
async def task_running(
    work: Coroutine[Any, Any, None], ready: Callable[[], Awaitable[object]], timeout: float = 10
) -> AsyncIterator[asyncio.Task[None]]:
    """``work`` as a task, once ``ready()`` returned within ``timeout``, until the block ends
    (then cancelled, as on SIGTERM)."""
    task = asyncio.create_task(work)
    try:
        async with asyncio.timeout(timeout):
            await ready()
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

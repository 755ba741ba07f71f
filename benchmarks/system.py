"""The system under test, as it is deployed: every service its own process.

A private mosquitto on a free port, SQLite in a temp folder with the registry seeded for the
bench's homes (``simulator.layout.STANDARD_DEVICES`` each, the demo's station and people, so
alerting has someone to notify), and gateway, detector, alerting and dashboard started with
``eldercare run X`` (``chaos.processes``), each serving ``/metrics`` on a port of its own:
what they handled is read from there, as Prometheus would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import async_sessionmaker

from benchmarks.wall_thread import wall_thread
from chaos.observers import Wall
from chaos.processes import ServiceProcess
from chaos.receiver import NotificationReceiver
from dashboards.accounts import ensure_demo_admin
from eldercare.broker import LocalMosquitto, free_port
from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.healthcheck import service_online
from eldercare.settings import Settings
from gateway.registry import Registry
from simulator.demo_people import registry_document, write_policies
from simulator.layout import STANDARD_DEVICES

SERVICES = ("gateway", "detector", "alerting", "dashboard")
START_TIMEOUT_S = 90.0
SECRET = "bench-run-secret-key-of-at-least-32-chars"
#: The bench floods far faster than any one real device sends: it measures the pipeline, not
#: the per-device limits (whose cost ``benchmarks/gateway_throughput.py`` measures).
UNLIMITED = json.dumps({"default": {"per_s": 1e9, "burst": 10**9}, "per_kind": {}})


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Scrape:
    """One ``/metrics`` page."""

    samples: list[Sample]

    def total(self, name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )


@dataclass
class System:
    folder: Path
    broker: LocalMosquitto
    processes: dict[str, ServiceProcess]
    metrics_ports: dict[str, int]
    wall: Wall
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))

    async def scrape(self, service: str) -> Scrape:
        response = await self.http.get(f"http://127.0.0.1:{self.metrics_ports[service]}/metrics")
        response.raise_for_status()
        return Scrape(
            [
                Sample(sample.name, dict(sample.labels), sample.value)
                for family in text_string_to_metric_families(response.text)
                for sample in family.samples
            ]
        )

    def log_tails(self, services: list[str], lines: int = 40) -> str:
        """The last lines of each service's log: the run's folder is removed afterwards, so
        the reason a service failed has to travel in the error."""
        tails = []
        for service in services:
            path = self.processes[service].log_path
            text = path.read_text("utf-8", errors="replace") if path.exists() else ""
            tails.append(f"--- {service}:\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(tails)

    async def restart(self, service: str, *ready: Callable[[Scrape], bool]) -> list[float]:
        """Stop ``service`` cleanly (SIGTERM, as a deploy does) and start it again; returns
        the seconds until each of ``ready`` first holds of the new process's ``/metrics``,
        in order. Its persistent session keeps what is published meanwhile."""
        process = self.processes[service]
        began = time.monotonic()
        await asyncio.to_thread(process.stop)
        process.start()
        pending = list(ready)
        seconds: list[float] = []
        while time.monotonic() - began < START_TIMEOUT_S:
            if not process.running:
                raise RuntimeError(f"{service} exited:\n{self.log_tails([service])}")
            with contextlib.suppress(httpx.HTTPError):
                scrape = await self.scrape(service)
                while pending and pending[0](scrape):
                    pending.pop(0)
                    seconds.append(time.monotonic() - began)
                if not pending:
                    return seconds
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{service} did not restart:\n{self.log_tails([service])}")

    def crashed(self) -> list[str]:
        return [name for name, process in self.processes.items() if not process.running]


async def seed(folder: Path, homes: list[str], receiver_port: int) -> tuple[str, str]:
    """The registry and the wall's login (user, password)."""
    engine = await prepared_engine(Settings(data_dir=folder))
    try:
        document = registry_document([(home, STANDARD_DEVICES) for home in homes], receiver_port)
        await Registry(engine, RealClock()).apply(document)
        async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
            return await ensure_demo_admin(session, RealClock().now())
    finally:
        await engine.dispose()


def service_env(
    folder: Path, broker_port: int, http_port: int, receiver_port: int
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ELDERCARE_")}
    env.update(
        ELDERCARE_BROKER_URL=f"mqtt://127.0.0.1:{broker_port}",
        ELDERCARE_DATA_DIR=str(folder),
        ELDERCARE_POLICIES_DIR=str(write_policies(folder / "policies", receiver_port)),
        ELDERCARE_SECRET_KEY=SECRET,
        ELDERCARE_LOG_LEVEL="INFO",  # as deployed: the hot path's logging is part of the cost
        ELDERCARE_HTTP_PORT=str(http_port),
        ELDERCARE_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
        ELDERCARE_DEVICE_RATE_LIMITS=UNLIMITED,
    )
    return env


async def _wait_started(system: System, settings: Settings) -> None:
    give_up = time.monotonic() + START_TIMEOUT_S
    waiting = list(SERVICES)
    while waiting and time.monotonic() < give_up:
        if crashed := system.crashed():
            raise RuntimeError(f"{', '.join(crashed)} exited:\n{system.log_tails(crashed)}")
        name = waiting[0]
        with contextlib.suppress(httpx.HTTPError):
            await system.scrape(name)
            if name == "dashboard":
                ready = system.wall.connected.is_set()
            else:
                ready = await service_online(settings, f"eldercare-{name}", wait_s=1)
            if ready:
                waiting.pop(0)
                continue
        await asyncio.sleep(0.3)
    if waiting:
        raise RuntimeError(f"{', '.join(waiting)} did not start:\n{system.log_tails(waiting)}")


@contextlib.asynccontextmanager
async def running_system(homes: list[str], broker: LocalMosquitto) -> AsyncIterator[System]:
    """Seeded, started, online (the wall's stream connected); stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="eldercare-bench-"))
    processes: dict[str, ServiceProcess] = {}
    try:
        async with NotificationReceiver() as receiver:
            username, password = await seed(folder, homes, receiver.port)
            http_port = free_port()
            env = service_env(folder, broker.port, http_port, receiver.port)
            ports = {name: free_port() for name in SERVICES}
            for name in SERVICES:
                service_only = {**env, "ELDERCARE_METRICS_PORT": str(ports[name])}
                processes[name] = ServiceProcess(name, service_only, folder / name)
                processes[name].start()
            wall = Wall(f"http://127.0.0.1:{http_port}", username, password)
            system = System(folder, broker, processes, ports, wall)
            try:
                with wall_thread(wall):
                    await _wait_started(system, Settings(broker_url=broker.url))
                    yield system
            finally:
                await system.http.aclose()
    finally:
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in processes.values()))
        shutil.rmtree(folder, ignore_errors=True)

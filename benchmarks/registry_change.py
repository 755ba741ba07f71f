"""How long the gateway's event loop is held while it follows a registry change.

    python benchmarks/registry_change.py [--homes 10000]

Seeds SQLite with ``--homes`` homes of the bench's 16 devices (``simulator.layout``), starts
the gateway's registry refresh as ``gateway.service.run`` does (snapshot first, then
``Gateway.refresh_registry`` with the lane's subscriptions followed on an unconnected
session), on a simulated clock, and times each refresh pass: the first after the start, one
with nothing changed, then a home added, a battery changed, a device moved to another home
(deleted from one, registered in the other) and a home deleted, each written through
``Registry`` as the CLI or the REST API would. Per pass: its wall time, the longest time
the loop was held (a task beside it measures the gaps between its turns; the heap kept
frozen as in a service, ``eldercare.heap``), and how often a device registered
throughout was not found at one of those turns (must be 0). Then, alone, one full read: the
loop thread's CPU and the garbage collection after it, as objects (``device_infos``) and,
where the registry has it, as plain tuples (``device_records``, what the refresh reads).

Then, with nothing changed and nothing beside it, the cost of a refresh interval
(``unchanged_refresh``: the loop thread's and the whole process's CPU per pass, over 10
passes; the process's includes the SQLite driver's thread) and of the detector's minute
(``detector_unchanged_minute``: ``SharedRegistry.get`` a minute after its first read, then
the view applied to the inactivity rule as ``registry_loop`` does): a whole read of every
device, and every device applied, each time before the registry's version (issue 18); one
query for the version, and the home modes alone applied, after it.

Prints one JSON object. Uses only what both the gateway before and after issue 18's
incremental registry had (the version where the registry has it, as ``gateway.service.run``
starts the refresh from it), so the same file measures either.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from inspect import signature
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from detector.activity.registry import SharedRegistry, apply_registry_in_parts
from detector.activity.rule import InactivityRule
from detector.service import REGISTRY_REFRESH_S as DETECTOR_REFRESH_S
from eldercare.bus import MqttConnection
from eldercare.clock import SimulatedClock
from eldercare.db import prepared_engine
from eldercare.heap import keep_heap_frozen
from eldercare.logs import configure_logging
from eldercare.settings import Settings
from gateway.registry import DeviceSpec, HomeSpec, Registry
from gateway.service import LANE_CLIENT_ID, REGISTRY_REFRESH_S, Gateway
from simulator.demo_people import registry_document
from simulator.layout import STANDARD_DEVICES, WALL_BUTTON

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


class RestingClock(SimulatedClock):
    """A simulated clock that says when its sleeper (the refresh loop) went back to sleep."""

    def __init__(self) -> None:
        super().__init__(START)
        self.resting = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.resting.set()
        await super().sleep(seconds)


class Probe:
    """Turns of the event loop beside the refresh: the longest gap between two in wall time
    and in this thread's CPU time (on a shared machine the wall gap includes waiting for a
    core; the CPU gap is the work itself), and how often a device registered throughout was
    missing from the gateway's registry at one."""

    def __init__(self, gateway: Gateway, always: list[tuple[str, str]]) -> None:
        self.gateway, self.always = gateway, always
        self.reset()

    def reset(self) -> None:
        self.longest, self.longest_cpu, self.misses, self.turns = 0.0, 0.0, 0, 0

    async def run(self) -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0)
            now, cpu = time.perf_counter(), time.thread_time()
            self.longest = max(self.longest, now - last)
            self.longest_cpu = max(self.longest_cpu, cpu - last_cpu)
            last, last_cpu = now, cpu
            self.turns += 1
            registry = self.gateway.registry
            self.misses += sum(1 for k in self.always if registry is None or not registry.get(*k))


async def measure(homes: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="eldercare-registry-change-"))
    engine = await prepared_engine(Settings(data_dir=folder))
    names = [f"h-{number:05d}" for number in range(homes)]
    started = time.perf_counter()
    await Registry(engine, SimulatedClock(START)).apply(
        registry_document([(home, STANDARD_DEVICES) for home in names], 9)
    )
    seeded_s = time.perf_counter() - started
    clock = RestingClock()
    registry = Registry(engine, clock)
    settings = Settings()
    gateway = Gateway(settings, clock)
    if hasattr(registry, "versioned_snapshot"):  # since the registry's version
        seen, snapshot = await registry.versioned_snapshot()
        gateway.set_registry(snapshot)
        refresh = gateway.refresh_registry(registry, lane_of(gateway, settings), seen)
    else:
        gateway.set_registry(await registry.snapshot())
        refresh = gateway.refresh_registry(registry, lane_of(gateway, settings))
    gc.collect()
    gc.freeze()  # as a service's heap (``eldercare.heap``), kept frozen below
    freezing = asyncio.create_task(keep_heap_frozen())
    always = [(names[0], WALL_BUTTON), (names[homes // 2], WALL_BUTTON), (names[-1], "hub")]
    probe = Probe(gateway, always)
    probing = asyncio.create_task(probe.run())
    passes: dict[str, dict[str, float | int]] = {}

    def record(name: str, began: float) -> None:
        passes[name] = {
            "wall_ms": round((time.perf_counter() - began) * 1000, 1),
            "longest_hold_ms": round(probe.longest * 1000, 1),
            "longest_hold_cpu_ms": round(probe.longest_cpu * 1000, 1),
            "loop_turns": probe.turns,
            "registered_device_missing": probe.misses,
            "devices": len(gateway.registry.devices) if gateway.registry else 0,
        }

    async def one_pass(name: str) -> None:
        clock.resting.clear()
        probe.reset()
        began = time.perf_counter()
        await clock.advance(REGISTRY_REFRESH_S)
        await clock.resting.wait()
        record(name, began)

    probe.reset()
    began = time.perf_counter()
    refreshing = asyncio.create_task(refresh)
    await clock.resting.wait()
    record("start", began)  # after ``run`` set the registry, until the loop first sleeps
    await one_pass("nothing changed")
    new_home = HomeSpec(id="h-new", name="new", devices=list(STANDARD_DEVICES))
    await registry.upsert_home(new_home)
    await one_pass("home added")
    await registry.battery_changed(names[1], WALL_BUTTON, clock.now())
    await one_pass("battery changed")
    await registry.delete_device(names[2], WALL_BUTTON)
    await registry.upsert_device(names[3], DeviceSpec("moved-button", "call_button", "hall"))
    await one_pass("device moved")
    await registry.delete_home("h-new")
    await one_pass("home deleted")
    probing.cancel()
    unchanged = await unchanged_refresh(clock)
    for task in (refreshing, freezing):
        task.cancel()
    detector_minute = await detector_unchanged_minute(engine)
    reads = {"objects": await read_cost(registry.device_infos)}
    if hasattr(registry, "device_records"):  # since the refresh reads plain tuples
        reads["tuples"] = await read_cost(registry.device_records)
    await engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    devices = homes * len(STANDARD_DEVICES)
    return {
        "homes": homes,
        "devices": devices,
        "seeded_s": round(seeded_s, 1),
        **passes,
        "unchanged_refresh": unchanged,
        "detector_unchanged_minute": detector_minute,
        "one_read": reads,
    }


def lane_of(gateway: Gateway, settings: Settings) -> MqttConnection:
    """The lane's session, never connected: the refresh changes its subscriptions."""
    return MqttConnection(settings, LANE_CLIENT_ID, gateway.lane_topics(), gateway.handle_lane)


async def unchanged_refresh(clock: RestingClock, passes: int = 10) -> dict[str, float]:
    """CPU per refresh pass with nothing changed, nothing else running on the loop."""
    began, began_loop = time.process_time(), time.thread_time()
    for _ in range(passes):
        clock.resting.clear()
        await clock.advance(REGISTRY_REFRESH_S)
        await clock.resting.wait()
    return {
        "passes": passes,
        "loop_cpu_ms": round((time.thread_time() - began_loop) * 1000 / passes, 2),
        "process_cpu_ms": round((time.process_time() - began) * 1000 / passes, 2),
    }


async def detector_unchanged_minute(engine: AsyncEngine) -> dict[str, float]:
    """The detector's minute with nothing changed (one shard, every home), as its
    ``registry_loop`` runs it: the registry read a minute after the last
    (``SharedRegistry.get``), then the view applied again to an inactivity rule that had it
    applied once (every device and zone before the version; the home modes alone after).
    CPU of the loop thread and of the process, each."""
    clock = SimulatedClock(START)
    shared = SharedRegistry(engine, clock, DETECTOR_REFRESH_S, 1, lambda: {0})
    rule = InactivityRule()
    first = await shared.get(0)
    await apply_registry_in_parts(first, rule, clock.now())
    clock.set(START + timedelta(seconds=DETECTOR_REFRESH_S))
    gc.collect()
    began, began_loop = time.process_time(), time.thread_time()
    view = await shared.get(0)
    read, read_loop = time.process_time(), time.thread_time()
    # as ``registry_loop``: the same view as last time is applied for its modes alone
    modes_only = "modes_only" in signature(apply_registry_in_parts).parameters
    again = {"modes_only": view is first} if modes_only else {}
    await apply_registry_in_parts(view, rule, clock.now(), **again)
    done, done_loop = time.process_time(), time.thread_time()
    return {
        "read_loop_cpu_ms": round((read_loop - began_loop) * 1000, 2),
        "read_process_cpu_ms": round((read - began) * 1000, 2),
        "apply_loop_cpu_ms": round((done_loop - read_loop) * 1000, 2),
        "apply_process_cpu_ms": round((done - read) * 1000, 2),
    }


async def read_cost(read: Callable[[], Awaitable[list[Any]]]) -> dict[str, float]:
    """CPU of the event loop's thread for one read of every device, and of the garbage
    collection a service's heap freezer (``eldercare.heap``) makes while the rows live."""
    gc.collect()
    gc.freeze()
    began = time.thread_time()
    rows = await read()
    cpu = time.thread_time() - began
    began = time.thread_time()
    gc.collect()
    collect = time.thread_time() - began
    del rows
    return {"cpu_ms": round(cpu * 1000, 1), "collect_ms": round(collect * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=10_000)
    configure_logging("WARNING")  # stdout is the JSON
    print(json.dumps(asyncio.run(measure(parser.parse_args().homes)), indent=1))


if __name__ == "__main__":
    main()

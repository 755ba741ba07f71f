"""Builders shared by the gateway tests: a Gateway on a simulated clock with a registry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.settings import Settings
from gateway.adapters.generic import DeviceMappings
from gateway.registry import DeviceInfo, RegistrySnapshot
from gateway.service import Gateway

FIXTURES = Path(__file__).with_name("fixtures") / "zigbee2mqtt"
START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PREFIX = "eldercare/v1"


def device(
    home: str,
    device_id: str,
    kind: str,
    *,
    model: str | None = None,
    heartbeat_s: int | None = None,
    zigbee_name: str | None = None,
    battery_changed_at: datetime | None = None,
) -> DeviceInfo:
    return DeviceInfo(
        home, device_id, kind, None, model, heartbeat_s, zigbee_name, battery_changed_at
    )


def make_gateway(
    devices: Iterable[DeviceInfo],
    clock: SimulatedClock | None = None,
    mappings: DeviceMappings | None = None,
) -> Gateway:
    gateway = Gateway(Settings(), clock or SimulatedClock(START), mappings)
    gateway.set_registry(RegistrySnapshot.of(devices))
    return gateway


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def decoded(outgoing: Sequence[Outgoing], kind: str) -> list[dict[str, Any]]:
    """Payloads of one kind of output: event, telemetry, status, quarantine, registration."""
    if kind == "quarantine":
        marker = "/_quarantine/"
        return [json.loads(o.payload) for o in outgoing if marker in o.topic]
    if kind == "registration":
        return [json.loads(o.payload) for o in outgoing if o.topic.endswith("/_registration")]
    return [
        json.loads(o.payload)
        for o in outgoing
        if "/_normalised/" in o.topic and o.topic.endswith(f"/{kind}")
    ]


async def settled(done: Callable[[], bool]) -> None:
    """Let a refresh's database reads and parts run until ``done()`` (a few real ms)."""
    for _ in range(5_000):
        if done():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the refresh did not get there")

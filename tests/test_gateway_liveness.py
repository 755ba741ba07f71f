"""Liveness: per-device deadlines, availability, home offline, battery health; clock-driven."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.models import HOME_GATEWAY_DEVICE, Event, EventType
from gateway.liveness import CHECK_PART, GRACE_S, MISSED_HEARTBEATS, deadline_for
from gateway.registry import RegistrySnapshot
from gateway.service import LIVENESS_TICK_S
from tests.gateway_support import START, decoded, device, make_gateway

HOME = "h-0007"


def heartbeat(device_id: str, seq: int, clock: SimulatedClock) -> tuple[str, bytes]:
    event = Event(home=HOME, device=device_id, seq=seq, ts=clock.now(), type=EventType.HEARTBEAT)
    return f"eldercare/v1/{HOME}/{device_id}/event", event.to_json()


def states(out: list[Outgoing]) -> set[tuple[str, str]]:
    return {(s["device"], s["state"]) for s in decoded(out, "status")}


def test_deadline_comes_from_the_registry_then_the_model() -> None:
    assert deadline_for(device(HOME, "a", "motion", heartbeat_s=60)) == timedelta(
        seconds=60 * MISSED_HEARTBEATS + GRACE_S
    )
    aqara = deadline_for(device(HOME, "b", "motion", model="RTCGQ11LM"))
    assert aqara == timedelta(seconds=3600 * MISSED_HEARTBEATS + GRACE_S)
    assert aqara < timedelta(hours=25), "far sooner than zigbee2mqtt's own 25 h"


async def test_each_device_goes_offline_at_its_own_deadline_then_the_home() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway(
        [
            device(HOME, "btn", "call_button", heartbeat_s=60),  # deadline 180 s
            device(HOME, "pir", "motion", heartbeat_s=600),  # deadline 1260 s
        ],
        clock,
    )
    clock.set(START + timedelta(seconds=170))
    assert gateway.tick() == []
    clock.set(START + timedelta(seconds=190))
    first = gateway.tick()
    assert states(first) == {("btn", "offline")}
    assert decoded(first, "status")[0]["reason"] == "heartbeat: silent for 190 s, deadline 180 s"
    assert gateway.tick() == [], "a change is published once"

    clock.set(START + timedelta(seconds=1270))
    assert states(gateway.tick()) == {("pir", "offline"), (HOME_GATEWAY_DEVICE, "offline")}

    back = await gateway.handle(*heartbeat("btn", 1, clock))
    assert states(back) == {("btn", "online"), (HOME_GATEWAY_DEVICE, "online")}
    assert decoded(back, "event"), "the heartbeat itself is still republished"


async def test_messages_keep_a_device_alive() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway([device(HOME, "btn", "call_button", heartbeat_s=60)], clock)
    for seq in range(1, 20):
        clock.set(START + timedelta(seconds=60 * seq))
        await gateway.handle(*heartbeat("btn", seq, clock))
        assert gateway.tick() == []


async def test_last_will_takes_a_device_offline_at_once() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway(
        [device(HOME, "btn", "call_button"), device(HOME, "pir", "motion")], clock
    )
    will = b'{"schema":1,"home":"h-0007","device":"btn","state":"offline"}'
    out = await gateway.handle(f"eldercare/v1/{HOME}/btn/status", will)
    assert states(out) == {("btn", "offline")}, "the other device still speaks for the home"
    assert decoded(out, "status")[0]["ts"] == START.isoformat().replace("+00:00", "Z")
    repeated = await gateway.handle(f"eldercare/v1/{HOME}/btn/status", will)
    assert repeated == [], "a retained will redelivered is not a new change"


async def test_liveness_runs_on_the_clock() -> None:
    """The service loop, driven by the simulated clock: no real waiting."""
    clock = SimulatedClock(START)
    gateway = make_gateway([device(HOME, "btn", "call_button", heartbeat_s=60)], clock)
    published: list[Outgoing] = []

    async def publish(message: Outgoing) -> None:
        published.append(message)

    task = asyncio.create_task(gateway.watch_liveness(publish))
    try:
        await clock.advance(170)
        assert published == []
        await clock.advance(LIVENESS_TICK_S * 3)
        assert states(published) == {("btn", "offline"), (HOME_GATEWAY_DEVICE, "offline")}
    finally:
        task.cancel()


async def test_low_battery_is_reported_with_hysteresis() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway([device(HOME, "pir", "motion", zigbee_name="pir")], clock)

    async def battery(percent: int) -> list[dict]:
        out = await gateway.handle("zigbee2mqtt/pir", json.dumps({"battery": percent}).encode())
        return decoded(out, "status")

    first = await battery(40)
    assert [(s["device"], s["state"], s.get("battery")) for s in first] == [
        ("pir", "online", "ok"),
        (HOME_GATEWAY_DEVICE, "online", None),
    ], "first word after a start: published, so no stale retained status survives"
    assert await battery(41) == []
    low = await battery(12)
    assert [(s["state"], s["battery"]) for s in low] == [("online", "low")]
    assert low[0]["reason"] == "battery: 12% (low below 15%)"
    assert await battery(18) == [], "18 % is not yet recovered"
    assert [s["battery"] for s in await battery(90)] == ["ok"]


async def test_old_battery_is_due_for_replacement_whatever_its_percentage() -> None:
    clock = SimulatedClock(START)
    changed = START - timedelta(days=700)
    gateway = make_gateway(
        [device(HOME, "door", "door", model="MCCGQ11LM", battery_changed_at=changed)], clock
    )
    assert gateway.tick() == []
    clock.set(START + timedelta(days=31))
    due = decoded(gateway.tick(), "status")
    due = [s for s in due if s.get("battery") == "due_for_replacement"]
    assert len(due) == 1 and "older than 730 days" in due[0]["reason"]

    # The technician changes it: the registry refresh brings the new date.
    fresh = device(HOME, "door", "door", model="MCCGQ11LM", battery_changed_at=clock.now())
    gateway.set_registry(RegistrySnapshot.of([fresh]))
    assert [s["battery"] for s in decoded(gateway.tick(), "status")] == ["ok"]


async def test_newly_registered_device_gets_a_full_deadline() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway([], clock)
    clock.set(START + timedelta(hours=5))
    gateway.set_registry(RegistrySnapshot.of([device(HOME, "btn", "call_button", heartbeat_s=60)]))
    clock.set(START + timedelta(hours=5, seconds=100))
    assert gateway.tick() == []


async def test_a_report_of_unmapped_fields_still_proves_life() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway(
        [device(HOME, "pir", "motion", zigbee_name="pir", heartbeat_s=60)], clock
    )
    clock.set(START + timedelta(seconds=200))
    assert states(gateway.tick()) == {("pir", "offline"), (HOME_GATEWAY_DEVICE, "offline")}
    back = await gateway.handle("zigbee2mqtt/pir", b'{"voltage":3005,"illuminance":12}')
    assert states(back) == {("pir", "online"), (HOME_GATEWAY_DEVICE, "online")}


async def test_the_hubs_last_will_takes_the_home_offline_at_once() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway(
        [device(HOME, "terminal", "hub", heartbeat_s=60), device(HOME, "pir", "motion")], clock
    )
    will = b'{"schema":1,"home":"h-0007","device":"terminal","state":"offline"}'
    out = await gateway.handle(f"eldercare/v1/{HOME}/terminal/status", will)
    assert states(out) == {("terminal", "offline"), (HOME_GATEWAY_DEVICE, "offline")}
    home = next(s for s in decoded(out, "status") if s["device"] == HOME_GATEWAY_DEVICE)
    assert home["reason"] == "hub: terminal offline"
    online = will.replace(b"offline", b"online")
    back = await gateway.handle(f"eldercare/v1/{HOME}/terminal/status", online)
    assert states(back) == {("terminal", "online"), (HOME_GATEWAY_DEVICE, "online")}


async def test_silence_since_the_start_is_offline_even_if_never_heard() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway([device(HOME, "btn", "call_button", heartbeat_s=60)], clock)
    clock.set(START + timedelta(seconds=181))
    assert states(gateway.tick()) == {("btn", "offline"), (HOME_GATEWAY_DEVICE, "offline")}


async def test_a_tick_over_many_devices_lets_other_work_run_between_its_parts() -> None:
    """Issue 18: at 160 000 devices one tick held the event loop ~0.2 s and a call press in
    the lane waited behind it; the tick now lets the loop run every ``CHECK_PART`` devices."""
    clock = SimulatedClock(START)
    devices = [
        device(f"h-{n // 10:05d}", f"d{n % 10}", "motion", heartbeat_s=60)
        for n in range(3 * CHECK_PART)
    ]
    gateway = make_gateway(devices, clock)
    order: list[str] = []
    first_status = asyncio.Event()

    async def publish(message: Outgoing) -> None:
        order.append("status")
        first_status.set()

    async def press() -> None:
        await first_status.wait()
        order.append("press")

    pressing = asyncio.create_task(press())
    task = asyncio.create_task(gateway.watch_liveness(publish))
    try:
        await clock.advance(60 * MISSED_HEARTBEATS + GRACE_S + LIVENESS_TICK_S * 2)
        await pressing
    finally:
        task.cancel()
    assert order.count("status") >= len(devices)
    assert order.index("press") < len(order) - CHECK_PART, "the press waited for the whole tick"

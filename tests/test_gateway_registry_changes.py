"""The gateway follows registry changes from what changed, in parts, never missing a device.

A rebuild of the whole snapshot, liveness and lane at 10 000 homes held the gateway's loop
~0.5 s on every change (issue 18); now a change is worked out and applied in parts and the
new snapshot swapped in whole (``RegistrySnapshot.changes``/``patched``,
``Gateway.follow_registry``). What must hold: right after a read, a device added, removed,
moved between homes or changed is seen as the registry says, exactly as a rebuild would see
it; while a change is applied, every device registered before and after it is found at every
turn of the loop; an unchanged registry is not rebuilt at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare.bus import MqttConnection
from eldercare.clock import SimulatedClock
from eldercare.models import Event, EventType
from eldercare.settings import Settings
from gateway.registry import (
    DeviceInfo,
    DeviceRecord,
    DeviceSpec,
    HomeSpec,
    Registry,
    RegistrySnapshot,
)
from gateway.service import LANE_CLIENT_ID, REGISTRY_REFRESH_S, Gateway
from simulator.layout import STANDARD_DEVICES, WALL_BUTTON
from tests.gateway_support import START, decoded, device, make_gateway, settled

HOMES = ["h-a", "h-b", "h-c"]
ZIGBEE_PIR = DeviceSpec("z-pir", "motion", "hall", model="RTCGQ11LM", zigbee_name="hall-pir")


def press(home: str, device_id: str, seq: int) -> tuple[str, bytes]:
    event = Event(home=home, device=device_id, seq=seq, ts=START, type=EventType.CALL_BUTTON)
    return f"eldercare/v1/{home}/{device_id}/event", event.to_json()


async def seeded(engine: AsyncEngine) -> Registry:
    registry = Registry(engine, SimulatedClock(START))
    for home in HOMES:
        extra = [ZIGBEE_PIR] if home == "h-a" else []
        await registry.upsert_home(HomeSpec(id=home, devices=[*STANDARD_DEVICES, *extra]))
    return registry


def assert_as_rebuilt(gateway: Gateway, rows: Sequence[DeviceRecord]) -> None:
    """What followed the changes equals what a gateway started on ``rows`` would hold."""
    fresh = make_gateway(DeviceInfo(*row) for row in rows)
    assert gateway.registry is not None and fresh.registry is not None
    assert gateway.registry.devices == fresh.registry.devices
    assert gateway.registry.by_zigbee_name == fresh.registry.by_zigbee_name
    assert gateway.lane_topics() == fresh.lane_topics()
    assert set(gateway.liveness._devices) == set(fresh.liveness._devices)


async def test_a_device_added_removed_moved_or_changed_is_seen_right_after_the_read(
    engine: AsyncEngine,
) -> None:
    registry = await seeded(engine)
    gateway = Gateway(Settings(), SimulatedClock(START))
    gateway.set_registry(await registry.snapshot())
    before = gateway.registry
    rows = await registry.device_records()
    assert {type(row) for row in rows} == {tuple}, "a read makes no object per device"
    assert await gateway.follow_registry(rows) == ([], [])
    assert gateway.registry is before, "an unchanged registry is not rebuilt"
    accepted = await gateway.handle(*press("h-a", WALL_BUTTON, 1))
    assert decoded(accepted, "event")

    await registry.upsert_home(HomeSpec(id="h-d", devices=list(STANDARD_DEVICES)))
    await registry.delete_device("h-a", WALL_BUTTON)
    await registry.delete_device("h-a", ZIGBEE_PIR.id)  # moved: the same zigbee name in h-b
    await registry.upsert_device("h-b", ZIGBEE_PIR)
    await registry.battery_changed("h-c", WALL_BUTTON, START + timedelta(days=1))
    rows = await registry.device_records()
    gained, lost = await gateway.follow_registry(rows)
    assert f"eldercare/v1/h-d/{WALL_BUTTON}/event" in gained
    assert lost == [f"eldercare/v1/h-a/{WALL_BUTTON}/event"]

    assert decoded(await gateway.handle(*press("h-d", WALL_BUTTON, 1)), "event")
    refused = decoded(await gateway.handle(*press("h-a", WALL_BUTTON, 2)), "quarantine")
    assert refused and refused[0]["reason"].startswith("unknown device")
    state = json.dumps({"occupancy": True, "battery": 90}).encode()
    motion = decoded(await gateway.handle("zigbee2mqtt/hall-pir", state), "event")
    assert [(m["home"], m["device"]) for m in motion] == [("h-b", "z-pir")]
    changed = gateway.registry.get("h-c", WALL_BUTTON) if gateway.registry else None
    assert changed is not None and changed.battery_changed_at == START + timedelta(days=1)
    assert f"eldercare/v1/h-d/{WALL_BUTTON}/event" in gateway.lane_topics()
    assert f"eldercare/v1/h-a/{WALL_BUTTON}/event" not in gateway.lane_topics()
    assert_as_rebuilt(gateway, rows)

    await registry.delete_home("h-d")
    rows = await registry.device_records()
    await gateway.follow_registry(rows)
    assert gateway.registry is not None and gateway.registry.get("h-d", WALL_BUTTON) is None
    assert_as_rebuilt(gateway, rows)


async def test_a_changed_device_keeps_its_liveness() -> None:
    """A fresh battery is a change of the device's row: its presence must not start over (a
    device already online would be announced again, or one offline silently reset)."""
    button = device("h-a", "btn", "call_button", heartbeat_s=60)
    gateway = make_gateway([button])
    gateway.liveness.seen("h-a", "btn", START)
    fresh = device("h-a", "btn", "call_button", heartbeat_s=60, battery_changed_at=START)
    await gateway.follow_registry([fresh])
    assert gateway.liveness.seen("h-a", "btn", START + timedelta(seconds=1)) == []


async def test_lookups_while_a_change_is_applied_never_miss_a_registered_device() -> None:
    """Fails if the snapshot is rebuilt in one piece (the loop gets no turn) or applied to the
    live snapshot half by half (a turn sees a registered device missing)."""
    homes = [f"h-{number:03d}" for number in range(40)]
    old = [device(h, d.id, d.kind) for h in homes for d in STANDARD_DEVICES]
    added = [device(f"h-new-{n}", WALL_BUTTON, "call_button") for n in range(30)]
    removed = {(h, WALL_BUTTON) for h in homes[:10]}
    new = sorted(
        [d for d in old if (d.home, d.id) not in removed]
        + [device(h, "pir-hall", "motion", heartbeat_s=30) for h in homes[10:20]]
        + added,
        key=lambda d: (d.home, d.id),
    )
    new = list({(d.home, d.id): d for d in new}.values())  # the changed rows replace the old
    gateway = make_gateway(old)
    before = gateway.registry
    throughout = {(d.home, d.id) for d in old} - removed
    seen: list[object] = []
    missing: list[tuple[str, str]] = []

    async def beside() -> None:
        while True:
            registry = gateway.registry
            assert registry is not None
            seen.append(registry)
            missing.extend(key for key in throughout if registry.get(*key) is None)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(beside())
    await asyncio.sleep(0)
    await gateway.follow_registry(new, part=7)
    await asyncio.sleep(0)
    watcher.cancel()
    assert missing == []
    after = gateway.registry
    assert after is not before and {id(s) for s in seen} == {id(before), id(after)}
    assert sum(1 for s in seen if s is before) > len(old) // 7, "the loop ran between parts"
    assert_as_rebuilt(gateway, new)


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["h-1", "h-2", "h-3"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["motion", "call_button", "smoke"]),
        st.sampled_from([None, "z-1", "z-2", "z-3"]),
    ),
    max_size=12,
)


def as_rows(raw: list[tuple[str, str, str, str | None]]) -> list[DeviceInfo]:
    """Unique keys and zigbee names, in key order: what a registry read can return."""
    rows: dict[tuple[str, str], DeviceInfo] = {}
    names: set[str] = set()
    for home, device_id, kind, name in raw:
        if (home, device_id) in rows or name in names:
            continue
        names |= {name} if name else set()
        rows[(home, device_id)] = device(home, device_id, kind, zigbee_name=name)
    return [rows[key] for key in sorted(rows)]


@settings(max_examples=200, deadline=None)
@given(first=rows_strategy, second=rows_strategy, part=st.integers(1, 5))
def test_a_patched_snapshot_equals_the_one_rebuilt_from_the_read(
    first: list[tuple[str, str, str, str | None]],
    second: list[tuple[str, str, str, str | None]],
    part: int,
) -> None:
    old, new = RegistrySnapshot.of(as_rows(first)), as_rows(second)

    async def follow() -> RegistrySnapshot:
        return await old.patched(await old.changes(new, part), part)

    patched, rebuilt = asyncio.run(follow()), RegistrySnapshot.of(new)
    assert patched.devices == rebuilt.devices
    assert patched.by_zigbee_name == rebuilt.by_zigbee_name
    assert patched.rows == new


async def test_the_refresh_reads_every_interval_and_follows_the_lane(engine: AsyncEngine) -> None:
    """As ``gateway.service.run`` runs it: the start's snapshot is not rebuilt by the first
    refresh (nothing changed), a new home's life-safety devices join the lane's topics."""
    registry = await seeded(engine)
    clock = SimulatedClock(START)
    gateway = Gateway(Settings(), clock)
    gateway.set_registry(await registry.snapshot())
    lane = MqttConnection(Settings(), LANE_CLIENT_ID, gateway.lane_topics(), gateway.handle_lane)
    subscribed: list[tuple[list[str], list[str]]] = []
    follow = lane.change_subscriptions

    async def recorded(added: list[str], removed: list[str]) -> None:
        subscribed.append((list(added), list(removed)))
        await follow(added, removed)

    lane.change_subscriptions = recorded  # type: ignore[method-assign]
    reads: list[int] = []
    read = registry.device_records

    async def counted() -> list[DeviceRecord]:
        rows = await read()
        reads.append(len(rows))
        return rows

    registry.device_records = counted  # type: ignore[method-assign]
    before = gateway.registry
    refreshing = asyncio.create_task(gateway.refresh_registry(registry, lane))
    try:
        await asyncio.sleep(0.02)
        assert reads == [], "the start's read is run's: the refresh waits an interval"
        await clock.advance(REGISTRY_REFRESH_S)
        await settled(lambda: len(reads) == 1)
        await asyncio.sleep(0.02)  # the comparison's parts
        assert gateway.registry is before and subscribed == []
        await registry.upsert_home(HomeSpec(id="h-d", devices=list(STANDARD_DEVICES)))
        await clock.advance(REGISTRY_REFRESH_S)
        await settled(lambda: bool(subscribed))
    finally:
        refreshing.cancel()
    assert gateway.registry is not None and gateway.registry.get("h-d", WALL_BUTTON)
    assert len(subscribed) == 1 and subscribed[0][1] == []
    assert f"eldercare/v1/h-d/{WALL_BUTTON}/event" in subscribed[0][0]
    rebuilt = make_gateway(DeviceInfo(*row) for row in await read())
    assert sorted(lane.subscriptions) == gateway.lane_topics() == rebuilt.lane_topics()

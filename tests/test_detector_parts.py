"""The detector's walks over every home (checkpoint, tick, registry) run in parts (issue 18).

In one piece, at 10 000 homes, the inactivity rule's snapshot held the event loop for about a
second (2.5-3.3 s on a loaded machine), its minute's checks for 0.3-0.5 s and the registry's
160 000 devices for 0.4 s a minute, every call press waiting behind them. These tests fail
if any runs in one piece again, and check that the parts still give what one piece gave: a
checkpoint of one instant, the same alerts, the same directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detector.activity.registry import (
    APPLY_PART,
    RegistryView,
    apply_registry,
    apply_registry_in_parts,
)
from detector.activity.rule import TICK_PART_HOMES, InactivityRule
from detector.activity.snapshot import PART_HOMES
from detector.checkpoint import Checkpointable, pack, pack_in_parts, unpack
from detector.device_health import TICK_PART_HOMES as HEALTH_PART_HOMES
from detector.service import Detector, default_rules
from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.models import Event, EventType
from eldercare.settings import Settings
from gateway.registry_api import DevicePlace

START = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
# several parts of every walk, the last one short
HOMES = 2 * max(PART_HOMES, TICK_PART_HOMES, HEALTH_PART_HOMES) + 7
DEVICES = (
    ("pir-bedroom", EventType.MOTION),
    ("bed", EventType.BED_EMPTY),
    ("hub", EventType.HEARTBEAT),
)


def home_id(number: int) -> str:
    return f"h-{number:05d}"


def feed(detector: Detector, home: str, seq: int, at: datetime, *, hub: bool = True) -> None:
    """A morning's first messages of one home, straight to the rules; with a hub that
    heartbeats, hours of silence are home_offline, without one inactivity."""
    for offset, (device, kind) in enumerate(DEVICES if hub else DEVICES[:-1]):
        event = Event(home=home, device=device, seq=seq + offset, ts=at, type=kind)
        for rule in detector.rules:
            rule.on_event(event, at)


def detector_with_homes(tmp_path: Path, clock: SimulatedClock) -> Detector:
    detector = Detector(Settings(data_dir=tmp_path), clock, rules=default_rules())
    for number in range(HOMES):
        feed(detector, home_id(number), 0, START, hub=number % 2 == 0)
    return detector


async def turns_while(task: asyncio.Task[object]) -> int:
    """How often the loop got to other work while ``task`` ran."""
    turns = 0
    while not task.done():
        await asyncio.sleep(0)
        turns += 1
    return turns


async def collected(parts: AsyncIterator[list[Outgoing]]) -> list[list[Outgoing]]:
    return [part async for part in parts]


def restored(data: bytes, tmp_path: Path, clock: SimulatedClock) -> dict[str, object]:
    """What a restart would hold: every rule's state, the homes in any order."""
    fresh = Detector(Settings(data_dir=tmp_path), clock, rules=default_rules())
    assert unpack(fresh.rules, data)
    inactivity = next(rule for rule in fresh.rules if isinstance(rule, InactivityRule))
    state: dict[str, object] = {
        home: home_state.to_dict() for home, home_state in inactivity.homes.items()
    }
    state.update(
        {
            rule.name: rule.snapshot()
            for rule in fresh.rules
            if isinstance(rule, Checkpointable) and rule is not inactivity
        }
    )
    return state


async def test_the_checkpoint_is_written_in_parts_and_holds_the_state_of_its_first_instant(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(START)
    detector = detector_with_homes(tmp_path, clock)
    before = pack(detector.rules)  # the state when the checkpoint begins
    later = START + timedelta(minutes=20)

    saving = asyncio.create_task(pack_in_parts(detector.rules))
    await asyncio.sleep(0)  # the checkpoint begins, writes a first part and lets go
    assert not saving.done()
    # Messages handled meanwhile: a home written already, one not yet, a new one.
    for number in (0, HOMES - 1):
        feed(detector, home_id(number), 10, later)
    feed(detector, "h-new", 0, later)
    turns = 1 + await turns_while(saving)

    assert turns >= HOMES // PART_HOMES, "the snapshot held the loop in one piece"
    assert restored(saving.result(), tmp_path, clock) == restored(before, tmp_path, clock)
    assert restored(pack(detector.rules), tmp_path, clock) != restored(before, tmp_path, clock)


async def test_a_cancelled_checkpoint_lets_the_next_one_begin(tmp_path: Path) -> None:
    clock = SimulatedClock(START)
    detector = detector_with_homes(tmp_path, clock)
    saving = asyncio.create_task(pack_in_parts(detector.rules))
    await asyncio.sleep(0)
    saving.cancel()  # the shard was handed over mid-save
    with pytest.raises(asyncio.CancelledError):
        await saving
    feed(detector, home_id(0), 10, START + timedelta(minutes=20))  # nothing kept for it
    assert await pack_in_parts(detector.rules) == pack(detector.rules)


async def test_the_tick_runs_in_parts_and_raises_what_one_piece_raises(tmp_path: Path) -> None:
    clock = SimulatedClock(START + timedelta(hours=14))  # hours of quiet in every home
    in_parts = detector_with_homes(tmp_path, clock)
    whole = detector_with_homes(tmp_path, clock)

    ticking = asyncio.create_task(collected(in_parts.tick_in_parts()))
    turns = await turns_while(ticking)
    parts = ticking.result()
    expected = whole.tick()

    assert turns >= HOMES // TICK_PART_HOMES, "the tick held the loop in one piece"
    assert len(expected) >= HOMES, "every home quiet for hours: something to compare"
    for kind in (b'"kind":"inactivity"', b'"kind":"home_offline"'):  # both walks raised
        assert any(kind in message.payload for message in expected)
    # each part's alerts can be published before a message handled after it clears them
    assert max(len(part) for part in parts) < len(expected), "a part at a time"
    assert sorted((m.topic, m.payload) for part in parts for m in part) == sorted(
        (m.topic, m.payload) for m in expected
    )


async def test_the_registry_is_applied_in_parts_as_one_piece_applies_it() -> None:
    homes = [home_id(number) for number in range(3 * APPLY_PART)]
    rooms = (("pir-kitchen", "motion", "kitchen"), ("door-front", "contact", "hall"))
    view = RegistryView(
        timezones=[(home, "Europe/Berlin") for home in homes],
        devices=[DevicePlace(home, *device) for home in homes for device in rooms],
        modes=[],
    )
    whole, in_parts = InactivityRule(), InactivityRule()

    applying = asyncio.create_task(apply_registry_in_parts(view, in_parts, START))
    turns = await turns_while(applying)

    assert turns >= len(view.devices) // APPLY_PART, "the registry held the loop in one piece"
    assert applying.result() == apply_registry(view, whole, START) == len(view.devices)
    for home in homes:
        assert in_parts.configs[home] == whole.configs[home]
        for device, _, _ in rooms:
            assert in_parts.directory.lookup(home, device) == whole.directory.lookup(home, device)

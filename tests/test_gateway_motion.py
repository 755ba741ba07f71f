"""Occupancy of different motion sensor models → the same "time since last motion"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from eldercare.clock import SimulatedClock
from gateway.motion import RENEW_S, MotionState, occupancy_changed
from gateway.profiles import MODELS, ModelProfile
from tests.gateway_support import START, decoded, device, make_gateway


def last_motion(events: list[dict]) -> datetime:
    return max(datetime.fromisoformat(e["ts"]) for e in events if e["type"] == "motion")


@pytest.mark.parametrize(("model", "hold_s"), [("RTCGQ11LM", 90), ("E1745", 180)])
async def test_one_walk_past_means_the_same_last_motion_for_every_model(
    model: str, hold_s: int
) -> None:
    """A resident walks past at 08:00 and sits down. Aqara clears after 90 s, IKEA after
    180 s; both must say: last motion 08:00, not 08:01:30 or 08:03."""
    clock = SimulatedClock(START)
    gateway = make_gateway([device("h", "pir", "motion", model=model, zigbee_name="pir")], clock)
    events = decoded(await gateway.handle("zigbee2mqtt/pir", b'{"occupancy":true}'), "event")
    clock.set(START + timedelta(seconds=hold_s))
    cleared = decoded(await gateway.handle("zigbee2mqtt/pir", b'{"occupancy":false}'), "event")

    assert [e["type"] for e in events] == ["motion"]
    assert [e["type"] for e in cleared] == ["no_motion"]
    assert last_motion(events + cleared) == START
    assert cleared[0]["value"]["last_motion"] == START.isoformat()
    assert cleared[0]["value"]["hold_s"] == hold_s


def test_silently_retriggering_sensor_implies_motion_before_the_clear() -> None:
    """A sensor that extends "occupied" without reporting: clear at 08:05 with a 30 s hold
    means the resident last moved at 08:04:30, not at the 08:00 detection."""
    profile = ModelProfile(motion_hold_s=30, silent_retrigger=True)
    _, state = occupancy_changed(profile, None, True, START)
    events, state = occupancy_changed(profile, state, False, START + timedelta(minutes=5))
    assert [(e.type, e.ts) for e in events] == [
        ("motion", START + timedelta(seconds=270)),
        ("no_motion", START + timedelta(minutes=5)),
    ]
    assert state == MotionState(False, START + timedelta(seconds=270))


def test_repeated_occupied_reports_are_renewals_not_floods() -> None:
    profile = MODELS["RTCGQ11LM"]
    first, state = occupancy_changed(profile, None, True, START)
    soon, state = occupancy_changed(profile, state, True, START + timedelta(seconds=5))
    later, state = occupancy_changed(profile, state, True, START + timedelta(seconds=RENEW_S + 6))
    assert len(first) == 1 and soon == [] and len(later) == 1
    assert later[0].ts == START + timedelta(seconds=RENEW_S + 6)


def test_clear_without_occupied_is_no_event() -> None:
    """After a restart the first report says "not occupied": that is not news."""
    events, state = occupancy_changed(MODELS["E1745"], None, False, START)
    assert events == [] and state == MotionState(False, None)


async def test_motion_event_seq_increases_across_messages() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway([device("h", "pir", "motion", zigbee_name="pir")], clock)
    seqs = []
    for second in (0, 100, 200):
        clock.set(START + timedelta(seconds=second))
        for occupied in ("true", "false"):
            out = await gateway.handle("zigbee2mqtt/pir", f'{{"occupancy":{occupied}}}'.encode())
            seqs += [json.loads(o.payload)["seq"] for o in out if o.topic.endswith("/event")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == 6

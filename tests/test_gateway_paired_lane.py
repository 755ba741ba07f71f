"""zigbee2mqtt and generic-mapped call buttons take the gateway's life-safety lane too.

Their reports carry no number, so the lane's copy and the main session's copy of one report
are paired by content (``gateway/lane_copies.py``): whichever session reads a press first
publishes it, the other drops the press and keeps the rest of the report (battery, link).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.models import EventType
from gateway.adapters.generic import DeviceMappings, EventField, MetricField, ModelMapping
from gateway.lane_copies import PAIR_WINDOW, LaneCopies, Session
from tests.gateway_support import START, decoded, device, make_gateway
from tests.presses import ZIGBEE_PRESS

HOME = "h-0001"
TOPIC = "zigbee2mqtt/h-0001/sos"
PRESS = ZIGBEE_PRESS
DEVICES = [
    device(HOME, "sos", "call_button", model="HS1EB/HS1EB-E", zigbee_name="h-0001/sos"),
    device(HOME, "pir", "motion", model="RTCGQ11LM", zigbee_name="h-0001/pir"),
]


def presses(outgoing: list[Outgoing]) -> list[dict[str, object]]:
    return [e for e in decoded(outgoing, "event") if e["type"] == "call_button"]


def life_safety_copies(outgoing: list[Outgoing]) -> int:
    return sum("/_lifesafety/" in o.topic for o in outgoing)


def test_the_lane_reads_zigbee_call_buttons_not_their_motion_sensors() -> None:
    lane = make_gateway(DEVICES).lane_topics()
    assert TOPIC in lane
    assert "zigbee2mqtt/h-0001/pir" not in lane


async def test_a_press_the_lane_read_first_is_published_once_and_the_rest_by_the_main_session() -> (
    None
):
    gateway = make_gateway(DEVICES)
    first = list(await gateway.handle_lane(TOPIC, PRESS))
    assert [p["value"] for p in presses(first)] == [{"press": "single"}]
    assert life_safety_copies(first) == 1
    assert not decoded(first, "telemetry"), "the battery is the main session's"

    second = list(await gateway.handle(TOPIC, PRESS))
    assert not presses(second) and not life_safety_copies(second)
    metrics = {t["metric"] for t in decoded(second, "telemetry")}
    assert metrics == {"battery", "link_quality"}
    assert gateway.lane_accepted == 1 and gateway.duplicates == 1


async def test_a_press_the_main_session_read_first_is_not_published_again_by_the_lane() -> None:
    gateway = make_gateway(DEVICES)
    first = list(await gateway.handle(TOPIC, PRESS))
    assert len(presses(first)) == 1 and life_safety_copies(first) == 1
    assert not await gateway.handle_lane(TOPIC, PRESS)
    assert gateway.lane_accepted == 0


async def test_two_identical_presses_through_both_sessions_are_two_presses() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway(DEVICES, clock)
    out = list(await gateway.handle_lane(TOPIC, PRESS))
    await clock.advance(20)
    out += await gateway.handle_lane(TOPIC, PRESS)
    out += await gateway.handle(TOPIC, PRESS)  # the main session, behind a flood
    out += await gateway.handle(TOPIC, PRESS)
    assert len(presses(out)) == 2


async def test_a_press_the_lane_missed_does_not_swallow_the_next_one() -> None:
    """The lane was away for the first press (QoS 0, reconnecting): the main session's copy
    waits for a twin that never comes, and pairs with the lane's copy of the next identical
    press, which the main session then publishes itself. Later, never lost."""
    gateway = make_gateway(DEVICES)
    assert len(presses(list(await gateway.handle(TOPIC, PRESS)))) == 1
    assert not presses(list(await gateway.handle_lane(TOPIC, PRESS)))
    assert len(presses(list(await gateway.handle(TOPIC, PRESS)))) == 1


async def test_a_twin_later_than_the_window_is_taken_for_a_new_press() -> None:
    """One call too many rather than one lost: the window covers the main session's
    backlog; past it a copy cannot be told from a new press."""
    clock = SimulatedClock(START)
    gateway = make_gateway(DEVICES, clock)
    await gateway.handle_lane(TOPIC, PRESS)
    await clock.advance(PAIR_WINDOW.total_seconds() + 1)
    assert len(presses(list(await gateway.handle(TOPIC, PRESS)))) == 1


async def test_what_the_lane_does_not_take_is_left_to_the_main_session() -> None:
    gateway = make_gateway(DEVICES)
    for payload in (b'{"battery": 97}', b'{"action": "release"}', b"not json", b'{"action": 7}'):
        assert not await gateway.handle_lane(TOPIC, payload)
    assert not await gateway.handle_lane("zigbee2mqtt/h-0001/sos/availability", b"online")
    assert not await gateway.handle_lane("zigbee2mqtt/unknown", PRESS)
    quarantined = decoded(list(await gateway.handle(TOPIC, b'{"action": 7}')), "quarantine")
    assert len(quarantined) == 1, "a bad report is quarantined once, by the main session"


KEY = f"eldercare/v1/{HOME}/key/event"
#: A vendor's SOS key through a generic mapping: the press read from one report.
MAPPED = DeviceMappings(
    models={
        "acme-key": ModelMapping(
            events=[
                EventField(
                    field="key",
                    equals="sos",
                    type=EventType.CALL_BUTTON,
                    value={"press": "single"},
                    on_change=False,
                )
            ],
            telemetry=[MetricField(field="bat", metric="battery")],
        )
    }
)


@pytest.mark.parametrize("lane_first", [True, False], ids=["lane first", "main first"])
async def test_a_mapped_press_is_published_once_whichever_session_reads_it_first(
    lane_first: bool,
) -> None:
    gateway = make_gateway([device(HOME, "key", "call_button", model="acme-key")], mappings=MAPPED)
    assert KEY in gateway.lane_topics()
    report = b'{"key": "sos", "bat": 80}'
    sessions = [gateway.handle_lane, gateway.handle]
    first, second = sessions if lane_first else sessions[::-1]
    out = [*await first(KEY, report), *await second(KEY, report)]
    assert len(presses(out)) == 1 and life_safety_copies(out) == 1
    assert [t["metric"] for t in decoded(out, "telemetry")] == ["battery"], "the rest, once"


def test_the_copies_waiting_for_a_twin_are_bounded() -> None:
    copies = LaneCopies(max_reports=10)
    for n in range(100):
        assert copies.first_copy(Session.LANE, HOME, "sos", json.dumps(n).encode(), START)
    assert len(copies.waiting) == 10 and copies.waiting.evictions == 90


@settings(max_examples=300, deadline=None)
@given(
    reports=st.lists(st.sampled_from([b"a", b"b", b"c"]), min_size=1, max_size=12),
    order=st.lists(st.booleans(), max_size=24),
    missed=st.sets(st.integers(0, 11)),
)
def test_each_report_is_handled_once_whatever_the_sessions_order(
    reports: list[bytes], order: list[bool], missed: set[int]
) -> None:
    """Each session receives the reports in the broker's order, interleaved in any way; the
    main session receives all of them and the lane misses some (``missed``). Every report is
    handled exactly once: never lost, never twice, identical reports included."""
    copies = LaneCopies()
    lane = [r for i, r in enumerate(reports) if i not in missed]
    main = list(reports)
    handled: Counter[bytes] = Counter()
    turns = iter(order)
    while lane or main:
        take_lane = bool(lane) and (not main or next(turns, True))
        session, queue = (Session.LANE, lane) if take_lane else (Session.MAIN, main)
        report = queue.pop(0)
        if copies.first_copy(session, HOME, "sos", report, START):
            handled[report] += 1
    assert handled == Counter(reports)

"""The life-safety lanes' decisions, without a broker: each copy of a press counts once.

The gateway's lane session and its main session both receive a life-safety device's event;
so do the detector's two sessions (``_lifesafety`` and ``_normalised``). Whichever copy
comes first goes through; the other is dropped by the window both sessions share. The lane
leaves everything that is not a valid, registered life-safety event to the main session,
which then reports it once. The broker-level proof is ``test_life_safety_lane.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.call_button import CallButtonRule
from detector.service import Detector
from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.models import Event, EventType
from eldercare.settings import Settings
from gateway.adapters.generic import DeviceMappings, EventField, ModelMapping
from gateway.registry import RegistrySnapshot
from tests.gateway_support import START, decoded, device, make_gateway

HOME = "h-0001"
RAW = f"eldercare/v1/{HOME}/btn/event"


def press(seq: int, kind: EventType = EventType.CALL_BUTTON, home: str = HOME) -> bytes:
    return Event(home=home, device="btn", seq=seq, ts=START, type=kind).to_json()


def lane_copies(out: list[Outgoing]) -> list[str]:
    return [o.topic for o in out if "/_lifesafety/" in o.topic]


@pytest.mark.parametrize("lane_first", [True, False])
async def test_a_press_on_both_gateway_sessions_is_republished_once(lane_first: bool) -> None:
    gateway = make_gateway([device(HOME, "btn", "call_button")])
    handlers = [gateway.handle_lane, gateway.handle]
    first, second = handlers if lane_first else handlers[::-1]
    out = [*(await first(RAW, press(1))), *(await second(RAW, press(1)))]
    assert [e["seq"] for e in decoded(out, "event")] == [1]
    assert lane_copies(out) == [f"eldercare/v1/_lifesafety/09/{HOME}/btn/event"]
    assert gateway.duplicates == 1 and gateway.lane_accepted == int(lane_first)
    # A new press (new seq) is new on either session.
    assert decoded(await gateway.handle(RAW, press(2)), "event")


async def test_the_lane_leaves_everything_else_to_the_main_session() -> None:
    gateway = make_gateway([device(HOME, "btn", "call_button")])
    stranger = f"eldercare/v1/{HOME}/ghost/event"
    ghost = Event(home=HOME, device="ghost", seq=1, ts=START, type=EventType.CALL_BUTTON)
    for topic, payload in [
        (RAW, press(1, EventType.HEARTBEAT)),  # not life-safety
        (RAW, b"{not json"),  # quarantined by the main session, once
        (RAW, press(1, home="h-0002")),  # topic and payload disagree
        (stranger, ghost.to_json()),  # not registered
    ]:
        assert await gateway.handle_lane(topic, payload) == []
    assert gateway.quarantined.total() == 0 and gateway.duplicates == 0
    # …and the main session still handles the ordinary event the lane passed over.
    assert decoded(await gateway.handle(RAW, press(1, EventType.HEARTBEAT)), "event")


async def test_the_lane_follows_the_registrys_life_safety_devices() -> None:
    """Contract devices; zigbee2mqtt devices (their presses); mapped devices whose mapping
    has a life-safety event read from a single report (``on_change: false``), not one that
    needs the device's history."""
    sos = EventField(field="sos", equals=True, type=EventType.CALL_BUTTON)
    mapped = DeviceMappings(
        models={
            "acme-sos": ModelMapping(events=[sos]),
            "acme-key": ModelMapping(events=[sos.model_copy(update={"on_change": False})]),
        }
    )
    gateway = make_gateway(
        [
            device(HOME, "btn", "call_button"),
            device(HOME, "smoke", "smoke"),
            device(HOME, "pir", "motion"),
            device(HOME, "z-btn", "call_button", zigbee_name="hall button"),
            device(HOME, "sos", "pendant", model="acme-sos"),
            device(HOME, "key", "call_button", model="acme-key"),
        ],
        mappings=mapped,
    )
    assert gateway.lane_topics() == [
        RAW,
        f"eldercare/v1/{HOME}/key/event",
        f"eldercare/v1/{HOME}/smoke/event",
        "zigbee2mqtt/hall button",
    ]
    gateway.set_registry(RegistrySnapshot.of([device("h-0002", "gas", "gas")]))
    assert gateway.lane_topics() == ["eldercare/v1/h-0002/gas/event"]


async def test_the_detector_offers_a_press_to_its_rules_once_whichever_session_has_it_first(
    tmp_path: Path,
) -> None:
    detector = Detector(
        Settings(data_dir=tmp_path), SimulatedClock(START), rules=[CallButtonRule()]
    )
    normalised = detector.topics.normalised(HOME, "btn", "event")
    lane = detector.topics.life_safety(HOME, "btn")
    assert len(await detector.handle_lane(lane, press(1))) == 1
    assert await detector.handle(normalised, press(1)) == []
    assert len(await detector.handle(normalised, press(2))) == 1
    assert await detector.handle_lane(lane, press(2)) == []
    assert detector.lane_copies == 2
    # Only life-safety events come through the lane.
    assert await detector.handle_lane(lane, press(3, EventType.HEARTBEAT)) == []

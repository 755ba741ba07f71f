"""Real zigbee2mqtt payloads → the right contract events, mapped through the registry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eldercare.clock import SimulatedClock
from eldercare.models import HOME_GATEWAY_DEVICE, LIFE_SAFETY_EVENTS, EventType
from gateway.adapters.zigbee2mqtt import parse_topic
from tests.gateway_support import START, decoded, device, fixture, make_gateway

HOME = "h-0042"

#: fixture → (model, registry kind, fixtures sent before it, expected events (type, value),
#: expected telemetry metrics → value)
CASES = {
    "motion_aqara_RTCGQ11LM": (
        "RTCGQ11LM",
        "motion",
        [],
        [("motion", {"source": "occupancy"})],
        {"battery": 100, "link_quality": 105},
    ),
    "motion_ikea_E1745": (
        "E1745",
        "motion",
        [],
        [("motion", {"source": "occupancy"})],
        {"battery": 87, "link_quality": 84},
    ),
    "door_open_MCCGQ11LM": (
        "MCCGQ11LM",
        "door",
        [],
        [("door_open", {})],
        {"battery": 100, "link_quality": 123},
    ),
    "door_closed_MCCGQ11LM": (
        "MCCGQ11LM",
        "door",
        ["door_open_MCCGQ11LM"],
        [("door_close", {})],
        {"battery": 100, "link_quality": 120},
    ),
    "button_single_WXKG11LM": (
        "WXKG11LM",
        "call_button",
        [],
        [("call_button", {"press": "single"})],
        {"battery": 100, "link_quality": 94},
    ),
    "button_double_WXKG11LM": (
        "WXKG11LM",
        "call_button",
        [],
        [("call_button", {"press": "double"})],
        {"battery": 100, "link_quality": 94},
    ),
    "button_long_WXKG11LM": (
        "WXKG11LM",
        "call_button",
        [],
        [("call_button", {"press": "long"})],
        {"battery": 100, "link_quality": 91},
    ),
    "smoke_JTYJ-GD-01LM-BW": (
        "JTYJ-GD-01LM/BW",
        "smoke",
        [],
        [("smoke", {"alarm": True})],
        {"battery": 100, "link_quality": 60},
    ),
    "gas_JTQJ-BF-01LM-BW": (
        "JTQJ-BF-01LM/BW",
        "gas",
        [],
        [("gas", {"alarm": True})],
        {"link_quality": 142},
    ),
    "water_leak_SJCGQ11LM": (
        "SJCGQ11LM",
        "water_leak",
        [],
        [("water_leak", {"alarm": True})],
        {"battery": 100, "link_quality": 87},
    ),
    "temperature_WSDCGQ11LM": (
        "WSDCGQ11LM",
        "climate",
        [],
        [],
        {"temperature": 22.15, "humidity": 54.37, "battery": 97, "link_quality": 132},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_fixture_maps_to_contract(name: str) -> None:
    model, kind, before, events, telemetry = CASES[name]
    friendly = f"{HOME}/{kind}-1"
    gateway = make_gateway([device(HOME, "dev-1", kind, model=model, zigbee_name=friendly)])
    for earlier in before:
        await gateway.handle(f"zigbee2mqtt/{friendly}", fixture(earlier))
    out = await gateway.handle(f"zigbee2mqtt/{friendly}", fixture(name))

    assert not decoded(out, "quarantine")
    got_events = decoded(out, "event")
    assert [(e["type"], e["value"]) for e in got_events] == events
    got_telemetry = decoded(out, "telemetry")
    assert {t["metric"]: t["value"] for t in got_telemetry} == telemetry
    for message in got_events + got_telemetry:
        assert (message["home"], message["device"]) == (HOME, "dev-1")
        assert message["ts"].startswith("2026-11-25T08:00:00")
    seqs = [m["seq"] for m in got_events + got_telemetry]
    assert len(set(seqs)) == len(seqs), "every adapted message has its own seq"
    events_topics = [o.topic for o in out if o.topic.endswith("/event")]
    copies = [t for t in events_topics if t == f"eldercare/v1/_lifesafety/07/{HOME}/dev-1/event"]
    life_safety = [e for e in got_events if EventType(e["type"]) in LIFE_SAFETY_EVENTS]
    assert len(copies) == len(life_safety), "each life-safety event copied to the detector's lane"
    normalised = [t for t in events_topics if t not in copies]
    assert normalised == [f"eldercare/v1/_normalised/07/{HOME}/dev-1/event"] * len(got_events)
    assert all(o.qos == 1 for o in out if o.topic.endswith("/event"))


async def test_repeated_state_reports_do_not_repeat_events() -> None:
    """zigbee2mqtt resends the whole state on a battery report: no second door_open."""
    gateway = make_gateway([device(HOME, "door", "door", zigbee_name="front-door")])
    first = await gateway.handle("zigbee2mqtt/front-door", fixture("door_open_MCCGQ11LM"))
    again = await gateway.handle("zigbee2mqtt/front-door", fixture("door_open_MCCGQ11LM"))
    assert [e["type"] for e in decoded(first, "event")] == ["door_open"]
    assert decoded(again, "event") == []
    assert decoded(again, "telemetry"), "the battery report itself still counts"


async def test_closed_door_at_first_sight_is_not_activity() -> None:
    """After a gateway restart, a periodic report of a closed door must not look like the
    resident just used it (that would hide inactivity)."""
    gateway = make_gateway([device(HOME, "door", "door", zigbee_name="front-door")])
    out = await gateway.handle("zigbee2mqtt/front-door", fixture("door_closed_MCCGQ11LM"))
    assert decoded(out, "event") == []


async def test_smoke_clears_with_alarm_false() -> None:
    gateway = make_gateway([device(HOME, "smoke", "smoke", zigbee_name="kitchen-smoke")])
    await gateway.handle("zigbee2mqtt/kitchen-smoke", fixture("smoke_JTYJ-GD-01LM-BW"))
    out = await gateway.handle("zigbee2mqtt/kitchen-smoke", b'{"smoke":false,"battery":100}')
    assert [(e["type"], e["value"]) for e in decoded(out, "event")] == [("smoke", {"alarm": False})]


async def test_release_and_empty_action_are_not_presses() -> None:
    gateway = make_gateway([device(HOME, "btn", "call_button", zigbee_name="sos")])
    for payload in (b'{"action":"release"}', b'{"action":""}'):
        out = await gateway.handle("zigbee2mqtt/sos", payload)
        assert decoded(out, "event") == [] and decoded(out, "quarantine") == []


async def test_cancel_button_kind_makes_cancel_events() -> None:
    gateway = make_gateway([device(HOME, "cancel", "cancel_button", zigbee_name="cancel")])
    out = await gateway.handle("zigbee2mqtt/cancel", fixture("button_single_WXKG11LM"))
    assert [e["type"] for e in decoded(out, "event")] == ["cancel_button"]


@pytest.mark.parametrize(
    ("payload", "state"),
    [
        (fixture("availability_online"), "online"),
        (fixture("availability_offline"), "offline"),
        (b"online", "online"),  # zigbee2mqtt before 1.28: plain text
        (b"offline", "offline"),
    ],
)
async def test_availability_maps_to_status(payload: bytes, state: str) -> None:
    gateway = make_gateway([device(HOME, "pir", "motion", zigbee_name="hall/pir")])
    if state == "online":  # only a change is news: go offline first
        await gateway.handle("zigbee2mqtt/hall/pir/availability", b'{"state":"offline"}')
    out = await gateway.handle("zigbee2mqtt/hall/pir/availability", payload)
    statuses = [s for s in decoded(out, "status") if s["device"] == "pir"]
    assert [(s["home"], s["state"]) for s in statuses] == [(HOME, state)]
    assert statuses[0]["reason"] == f"availability: zigbee2mqtt reports {state}"
    assert all(o.retain for o in out if o.topic.endswith("/status"))


async def test_only_device_offline_makes_the_home_offline() -> None:
    gateway = make_gateway([device(HOME, "pir", "motion", zigbee_name="pir")])
    out = await gateway.handle("zigbee2mqtt/pir/availability", b"offline")
    assert {(s["device"], s["state"]) for s in decoded(out, "status")} == {
        ("pir", "offline"),
        (HOME_GATEWAY_DEVICE, "offline"),
    }


async def test_unknown_friendly_name_is_reported_once_and_not_quarantined() -> None:
    gateway = make_gateway([device(HOME, "pir", "motion", zigbee_name="pir")])
    first = await gateway.handle("zigbee2mqtt/living-lamp", b'{"state":"ON","brightness":254}')
    again = await gateway.handle("zigbee2mqtt/living-lamp", b'{"state":"OFF"}')
    assert [r["zigbee_name"] for r in decoded(first, "registration")] == ["living-lamp"]
    assert again == [] and decoded(first, "quarantine") == []
    assert gateway.unregistered == 2


async def test_bridge_and_command_topics_are_ignored() -> None:
    gateway = make_gateway([device(HOME, "pir", "motion", zigbee_name="pir")])
    for topic in ("zigbee2mqtt/bridge/state", "zigbee2mqtt/pir/set", "zigbee2mqtt/bridge/log"):
        assert await gateway.handle(topic, b'{"state":"online"}') == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "schema: zigbee2mqtt payload is not JSON"),
        (b"[1,2]", "schema: zigbee2mqtt payload must be a JSON object"),
        (b'{"occupancy":"yes"}', "schema: occupancy must be true or false"),
        (b'{"temperature":"hot"}', "schema: temperature must be a number"),
        (b'{"temperature":412.0}', "range: temperature 412 outside -40..125"),
        (b'{"humidity":-3}', "range: humidity -3 outside 0..100"),
        (b'{"battery":180}', "range: battery 180 outside 0..100"),
        (b'{"action":"brightness_move_up"}', "schema: action 'brightness_move_up'"),
        (b'{"contact":1}', "schema: contact must be true or false"),
    ],
)
async def test_bad_zigbee_payloads_are_quarantined_with_reason(payload: bytes, reason: str) -> None:
    gateway = make_gateway([device(HOME, "dev", "door", zigbee_name="dev")])
    out = await gateway.handle("zigbee2mqtt/dev", payload)
    records = decoded(out, "quarantine")
    assert len(records) == 1 and records[0]["reason"].startswith(reason), records
    assert records[0]["topic"] == "zigbee2mqtt/dev"
    assert gateway.quarantined_by_device[(HOME, "dev")] == 1


async def test_good_fields_pass_when_one_field_is_bad() -> None:
    gateway = make_gateway([device(HOME, "th", "climate", zigbee_name="th")])
    out = await gateway.handle("zigbee2mqtt/th", b'{"temperature":900,"humidity":40}')
    assert [t["metric"] for t in decoded(out, "telemetry")] == ["humidity"]
    assert decoded(out, "quarantine")[0]["reason"].startswith("range: temperature")


async def test_last_seen_is_the_event_time() -> None:
    clock = SimulatedClock(START)
    gateway = make_gateway([device(HOME, "btn", "call_button", zigbee_name="btn")], clock)
    clock.set(START + timedelta(seconds=30))
    out = await gateway.handle(
        "zigbee2mqtt/btn", b'{"action":"single","last_seen":"2026-11-25T08:00:10.000Z"}'
    )
    assert decoded(out, "event")[0]["ts"] == "2026-11-25T08:00:10Z"


def test_friendly_names_may_contain_slashes() -> None:
    assert parse_topic("zigbee2mqtt", "zigbee2mqtt/h-1/hall/pir").name == "h-1/hall/pir"
    parsed = parse_topic("zigbee2mqtt", "zigbee2mqtt/h-1/hall/pir/availability")
    assert parsed is not None and parsed.availability and parsed.name == "h-1/hall/pir"
    assert parse_topic("zigbee2mqtt", "zigbee2mqtt/bridge/devices") is None
    assert parse_topic("zigbee2mqtt", "other/pir") is None


def test_a_homes_own_bridge_state_is_its_bridge_devices_availability() -> None:
    """zigbee2mqtt run with ``base_topic: zigbee2mqtt/h-1``: the same device topics, and its
    state and last will on ``zigbee2mqtt/h-1/bridge/state``; its other bridge topics are not
    devices (no registration reports for them)."""
    parsed = parse_topic("zigbee2mqtt", "zigbee2mqtt/h-1/bridge/state")
    assert parsed is not None and parsed.availability and parsed.name == "h-1/bridge"
    assert parse_topic("zigbee2mqtt", "zigbee2mqtt/h-1/bridge/devices") is None
    assert parse_topic("zigbee2mqtt", "zigbee2mqtt/h-1/bridge/response/permit_join") is None
    assert parse_topic("zigbee2mqtt", "zigbee2mqtt/bridge/state") is None  # shared: whose?


async def test_a_homes_bridge_is_its_hub_kept_alive_by_its_devices_reports() -> None:
    """The bridge says nothing between its start and its last will, so every report through
    it proves it alive: a night of quiet devices must not take it past its deadline
    unnoticed, and its last will takes the home offline at once."""
    clock = SimulatedClock(START)
    gateway = make_gateway(
        [
            device(HOME, "zigbee", "hub", zigbee_name=f"{HOME}/bridge"),
            device(HOME, "kitchen-lamp", "motion", zigbee_name=f"{HOME}/kitchen/pir"),
        ],
        clock,
    )
    report = list(await gateway.handle(f"zigbee2mqtt/{HOME}/kitchen/pir", b'{"battery": 90}'))
    statuses = {(s["device"], s["state"]) for s in decoded(report, "status")}
    assert ("zigbee", "online") in statuses and (HOME_GATEWAY_DEVICE, "online") in statuses

    will = b'{"state": "offline"}'
    cut = decoded(list(await gateway.handle(f"zigbee2mqtt/{HOME}/bridge/state", will)), "status")
    home = [s for s in cut if s["device"] == HOME_GATEWAY_DEVICE]
    assert [(s["state"], s["reason"]) for s in home] == [("offline", "hub: zigbee offline")]

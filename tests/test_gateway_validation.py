"""Native contract checks (ranges, timestamps, size), generic mappings, registration reports."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from eldercare.models import Event, EventType, Metric, Telemetry
from gateway.adapters.generic import DeviceMappings
from gateway.service import load_mappings
from tests.gateway_support import START, decoded, device, make_gateway

HOME = "h-0003"
TOPIC = f"eldercare/v1/{HOME}/th/telemetry"


def telemetry(metric: str, value: float, **extra: object) -> bytes:
    body = {"schema": 1, "home": HOME, "device": "th", "seq": 1, "ts": START.isoformat()}
    return json.dumps({**body, "metric": metric, "value": value, **extra}).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (telemetry("temperature", 300.0), "range: temperature 300 outside -40..125"),
        (telemetry("humidity", 101.0), "range: humidity 101 outside 0..100"),
        (telemetry("battery", -1.0), "range: battery -1 outside 0..100"),
        (telemetry("heart_rate", 400.0), "range: heart_rate 400 outside 20..250"),
        (
            telemetry("accel", None, rate_hz=50, samples=[[0, 0, 1], [0, 200, 1]]),
            "range: accel sample (0.0, 200.0, 1.0)",
        ),
        (
            telemetry("temperature", 20.0).replace(b"2026-11-25T08", b"2026-11-26T08"),
            "timestamp: 2026-11-26T08:00:00+00:00 is in the future",
        ),
        (
            telemetry("temperature", 20.0).replace(b"2026-11-25T08", b"2026-11-01T08"),
            "timestamp: 2026-11-01T08:00:00+00:00 is too old",
        ),
        (telemetry("temperature", 20.0, pad="x" * 70_000), "size: "),
        (telemetry("temperature", 20.0, colour="red"), "schema: colour: Extra inputs"),
        (b'{"schema":1,"home":"h-0003","device":"th","seq":1,"ts":1e300,"metric":"battery",'
         b'"value":5}', "schema: ts: Value error, epoch milliseconds"),
    ],
)  # fmt: skip
async def test_native_rejects_are_quarantined_with_reason(payload: bytes, reason: str) -> None:
    gateway = make_gateway([device(HOME, "th", "climate")])
    out = await gateway.handle(TOPIC, payload)
    records = decoded(out, "quarantine")
    assert len(records) == 1 and records[0]["reason"].startswith(reason), records
    assert not decoded(out, "telemetry")
    assert gateway.quarantined_by_device[(HOME, "th")] == 1


async def test_plausible_native_telemetry_passes_and_duplicates_drop() -> None:
    gateway = make_gateway([device(HOME, "th", "climate")])
    good = telemetry("temperature", 21.5)
    first = await gateway.handle(TOPIC, good)
    assert [t["value"] for t in decoded(first, "telemetry")] == [21.5]
    sent = next(o for o in first if o.topic.endswith("/telemetry"))
    assert sent.qos == 0, "telemetry may be lost; events may not"
    assert await gateway.handle(TOPIC, good) == [] and gateway.duplicates == 1


async def test_reject_counter_is_per_device() -> None:
    gateway = make_gateway([device(HOME, "th", "climate"), device(HOME, "pir", "motion")])
    for _ in range(3):
        await gateway.handle(TOPIC, b"garbage")
    await gateway.handle(f"eldercare/v1/{HOME}/pir/event", b"{}")
    assert dict(gateway.quarantined_by_device.items()) == {(HOME, "th"): 3, (HOME, "pir"): 1}
    assert gateway.quarantined["schema"] == 4
    record = decoded(await gateway.handle(TOPIC, b"[]"), "quarantine")[0]
    assert (record["home"], record["device"], record["device_rejects"]) == (HOME, "th", 4)


async def test_unknown_native_device_is_reported_once_but_always_quarantined() -> None:
    gateway = make_gateway([device(HOME, "th", "climate")])
    event = Event(home=HOME, device="new-pir", seq=1, ts=START, type=EventType.MOTION)
    topic = f"eldercare/v1/{HOME}/new-pir/event"
    first = await gateway.handle(topic, event.to_json())
    second = await gateway.handle(topic, event.to_json())
    assert [(r["home"], r["device"], r["source"]) for r in decoded(first, "registration")] == [
        (HOME, "new-pir", "native")
    ]
    assert decoded(second, "registration") == []
    assert len(decoded(first, "quarantine")) == len(decoded(second, "quarantine")) == 1


MAPPING = """
models:
  acme-pir-2:
    timestamp: {field: t, unit: s}
    occupancy: {field: pir, occupied: 1}
    events:
      - {field: key, equals: sos, type: call_button, value: {press: single}, on_change: false}
      - {field: door, equals: open, type: door_open}
      - {field: door, equals: closed, type: door_close}
    telemetry:
      - {field: env.t10, metric: temperature, scale: 0.1}
      - {field: bat, metric: battery}
"""


@pytest.fixture
def mappings(tmp_path: Path) -> DeviceMappings:
    path = tmp_path / "mappings.yaml"
    path.write_text(MAPPING)
    return load_mappings(path)


async def test_generic_mapping_turns_vendor_json_into_contract(mappings: DeviceMappings) -> None:
    gateway = make_gateway([device(HOME, "acme", "motion", model="acme-pir-2")], mappings=mappings)
    topic = f"eldercare/v1/{HOME}/acme/telemetry"
    t = int(START.timestamp()) - 5
    payload = {"t": t, "pir": 1, "door": "open", "key": "sos", "env": {"t10": 215}, "bat": 64}
    out = await gateway.handle(topic, json.dumps(payload).encode())
    events = decoded(out, "event")
    assert [(e["type"], e["value"]) for e in events] == [
        ("motion", {"source": "occupancy"}),
        ("call_button", {"press": "single"}),
        ("door_open", {}),
    ]
    assert events[0]["ts"] == (START - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    assert {t["metric"]: t["value"] for t in decoded(out, "telemetry")} == {
        "temperature": 21.5,
        "battery": 64,
    }
    again = await gateway.handle(topic, json.dumps({**payload, "pir": 0}).encode())
    assert [e["type"] for e in decoded(again, "event")] == ["no_motion", "call_button"]


async def test_generic_mapping_rejects_are_quarantined(mappings: DeviceMappings) -> None:
    gateway = make_gateway([device(HOME, "acme", "motion", model="acme-pir-2")], mappings=mappings)
    out = await gateway.handle(f"eldercare/v1/{HOME}/acme/event", b'{"env":{"t10":"warm"}}')
    assert decoded(out, "quarantine")[0]["reason"] == "schema: env.t10 must be a number"


def test_mapping_typos_fail_at_load() -> None:
    with pytest.raises(ValueError, match="metrik"):
        DeviceMappings.model_validate(
            {"models": {"x": {"telemetry": [{"field": "a", "metrik": "t"}]}}}
        )


def test_contract_additions_round_trip() -> None:
    sample = Telemetry(home=HOME, device="z", seq=1, ts=START, metric=Metric.LINK_QUALITY, value=90)
    assert Telemetry.model_validate_json(sample.to_json()) == sample


async def test_a_rebooted_device_reusing_seq_numbers_is_not_a_duplicate() -> None:
    gateway = make_gateway([device(HOME, "th", "climate")])
    before = telemetry("temperature", 21.5)
    assert decoded(await gateway.handle(TOPIC, before), "telemetry")
    assert await gateway.handle(TOPIC, before) == []  # a QoS 1 redelivery
    later = (START + timedelta(minutes=1)).isoformat().encode()
    after_reboot = before.replace(START.isoformat().encode(), later)  # seq 1 again
    assert after_reboot != before
    assert decoded(await gateway.handle(TOPIC, after_reboot), "telemetry")
    assert gateway.duplicates == 1

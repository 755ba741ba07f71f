"""Every raw payload ends as a contract message or a quarantine reason, never an exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eldercare.clock import SimulatedClock
from eldercare.models import Event, QuarantineRecord
from eldercare.settings import Settings
from eldercare.topics import Topics
from gateway.service import Gateway
from gateway.validation import Rejected, SeqWindow, validate

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TOPICS = Topics("eldercare/v1")
KNOWN = frozenset({("h-0001", "btn-hall")})
TOPIC = "eldercare/v1/h-0001/btn-hall/event"


def payload(**change: object) -> bytes:
    body = {
        "schema": 1,
        "home": "h-0001",
        "device": "btn-hall",
        "seq": 7,
        "ts": NOW.isoformat(),
        "type": "call_button",
        "value": {"press": "single"},
        **change,
    }
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def check(raw: bytes, topic: str = TOPIC, max_bytes: int = 65536) -> Event | Rejected:
    return validate(TOPICS, topic, raw, now=NOW, max_bytes=max_bytes, known=KNOWN)  # type: ignore[return-value]


def test_valid_event_passes() -> None:
    result = check(payload())
    assert isinstance(result, Event)
    assert result.seq == 7


@pytest.mark.parametrize(
    ("raw", "topic", "reason"),
    [
        (b"{not json", TOPIC, "schema: payload: Invalid JSON"),
        (payload(seq="seven"), TOPIC, "schema: seq:"),
        (payload(ts=None), TOPIC, "schema: ts: Field required"),
        (b'{"pad":"' + b"x" * 70_000 + b'"}', TOPIC, "size: "),
        (payload(device="ghost"), "eldercare/v1/h-0001/ghost/event", "unknown device"),
        (payload(home="h-0002"), TOPIC, "mismatch: "),
        (payload(ts=(NOW + timedelta(hours=1)).isoformat()), TOPIC, "timestamp: "),
        (payload(ts=(NOW - timedelta(days=30)).isoformat()), TOPIC, "timestamp: "),
        (payload(), "eldercare/v1/h-0001/btn-hall/cmd", "topic: devices may not publish"),
        (payload(), "elsewhere/h-0001/btn-hall/event", "topic: "),
        (b"\xff\xfe\x00", TOPIC, "schema: "),
        (b"[]", TOPIC, "schema: "),
    ],
    ids=[
        "bad-json",
        "wrong-type",
        "missing-field",
        "huge",
        "unknown-device",
        "topic-payload-mismatch",
        "future",
        "ancient",
        "cmd-channel",
        "foreign-prefix",
        "binary",
        "not-an-object",
    ],
)
def test_rejects_with_reason(raw: bytes, topic: str, reason: str) -> None:
    result = check(raw, topic)
    assert isinstance(result, Rejected)
    assert result.reason.startswith(reason) or reason in result.reason, result.reason


@settings(max_examples=300)
@given(topic=st.text(max_size=80), raw=st.binary(max_size=300))
def test_arbitrary_input_never_raises(topic: str, raw: bytes) -> None:
    result = check(raw, "eldercare/v1/" + topic)
    assert isinstance(result, Event | Rejected)


@settings(max_examples=200)
@given(
    body=st.dictionaries(
        st.sampled_from(["schema", "home", "device", "seq", "ts", "type", "value", "x"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=30), st.floats(), st.booleans()),
    )
)
def test_arbitrary_json_objects_never_raise(body: dict) -> None:
    result = check(json.dumps(body).encode())
    assert isinstance(result, Event | Rejected)


async def test_gateway_quarantines_with_record_and_counts() -> None:
    gateway = Gateway(Settings(), SimulatedClock(NOW))
    gateway.known = KNOWN
    [out] = await gateway.handle(TOPIC, b"{oops")
    assert out.topic == "eldercare/v1/_quarantine/h-0001/btn-hall/event"
    record = QuarantineRecord.model_validate_json(out.payload)
    assert record.reason.startswith("schema:")
    assert record.payload_head == "{oops"
    assert gateway.quarantined["schema"] == 1
    assert gateway.quarantined_by_device[("h-0001", "btn-hall")] == 1


async def test_gateway_republishes_once_and_drops_redelivery() -> None:
    gateway = Gateway(Settings(), SimulatedClock(NOW))
    gateway.known = KNOWN
    [out] = await gateway.handle(TOPIC, payload())
    assert out.topic == "eldercare/v1/_normalised/h-0001/btn-hall/event"
    assert out.qos == 1
    assert Event.model_validate_json(out.payload).seq == 7
    assert await gateway.handle(TOPIC, payload()) == []
    assert gateway.duplicates == 1
    assert await gateway.handle("eldercare/v1/_system/eldercare-x/status", b"{}") == []


def test_seq_window_forgets_old_numbers_but_not_recent_ones() -> None:
    window = SeqWindow(per_device=3)
    assert [window.first_time("h", "d", n) for n in (1, 2, 3, 2)] == [True, True, True, False]
    assert window.first_time("h", "d", 4)
    assert window.first_time("h", "d", 1)  # fell out of the window: a rebooted device
    assert window.first_time("h", "other", 2)

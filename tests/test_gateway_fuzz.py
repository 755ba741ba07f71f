"""Hypothesis against the adapters and the validator: nothing escapes, every reject has a reason.

``Gateway.handle`` never awaits (its work is CPU only), so examples drive the coroutine by
hand instead of starting an event loop per example: thousands of examples in seconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eldercare.logs import configure_logging
from eldercare.models import QuarantineRecord
from eldercare.topics import Topics
from gateway.adapters.common import DeviceMemory
from gateway.adapters.generic import DeviceMappings, adapt_generic
from gateway.adapters.zigbee2mqtt import adapt_availability, adapt_state
from gateway.service import Gateway
from gateway.validation import Rejected, check_message, parse_native
from tests.gateway_support import START, device, make_gateway

HOME = "h-0001"
DEVICES = [
    device(HOME, "btn-hall", "call_button", heartbeat_s=60),
    device(HOME, "pir", "motion", model="E1745", zigbee_name="h-0001/pir"),
    device(HOME, "door", "door", model="MCCGQ11LM", zigbee_name="door"),
    device(HOME, "acme", "motion", model="acme-pir"),
    device(HOME, "sos", "call_button", model="HS1EB/HS1EB-E", zigbee_name="h-0001/sos"),
    device(HOME, "zigbee", "hub", zigbee_name="h-0001/bridge"),
]
MAPPINGS = DeviceMappings.model_validate(
    {
        "models": {
            "acme-pir": {
                "timestamp": {"field": "t", "unit": "s"},
                "occupancy": {"field": "pir", "occupied": 1},
                "events": [{"field": "key", "equals": "sos", "type": "call_button"}],
                "telemetry": [{"field": "env.t10", "metric": "temperature", "scale": 0.1}],
            }
        }
    }
)
#: ``ELDERCARE_FUZZ_EXAMPLES=20000 pytest tests/test_gateway_fuzz.py`` to dig deeper locally.
EXAMPLES = int(os.environ.get("ELDERCARE_FUZZ_EXAMPLES", "300"))
REASON_KINDS = {"schema", "size", "topic", "mismatch", "timestamp", "range", "unknown device"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
contract_keys = st.sampled_from(
    [
        "schema",
        "home",
        "device",
        "seq",
        "ts",
        "type",
        "value",
        "metric",
        "rate_hz",
        "samples",
        "state",
        "reason",
        "battery",
    ]
)
zigbee_keys = st.sampled_from(
    [
        "occupancy",
        "contact",
        "smoke",
        "gas",
        "water_leak",
        "action",
        "temperature",
        "humidity",
        "battery",
        "linkquality",
        "last_seen",
        "state",
        "pir",
        "key",
        "t",
        "env",
    ]
)
plausible = st.sampled_from(
    [
        HOME,
        "btn-hall",
        "pir",
        1,
        0,
        True,
        False,
        "motion",
        "call_button",
        "battery",
        "online",
        "offline",
        "single",
        "release",
        22.5,
        101,
        -50,
        "2026-11-25T08:00:00Z",
        1_795_000_000_000,
        {"press": "single"},
        {"t10": 215},
        [[0.0, 0.0, 1.0]],
    ]
)
object_payloads = st.dictionaries(
    contract_keys | zigbee_keys, plausible | json_values, max_size=8
).map(lambda d: json.dumps(d).encode())
payloads = (
    st.binary(max_size=200) | object_payloads | json_values.map(lambda v: json.dumps(v).encode())
)
topics = st.sampled_from(
    [
        f"eldercare/v1/{HOME}/btn-hall/event",
        f"eldercare/v1/{HOME}/btn-hall/telemetry",
        f"eldercare/v1/{HOME}/btn-hall/status",
        f"eldercare/v1/{HOME}/acme/event",
        f"eldercare/v1/{HOME}/ghost/event",
        f"eldercare/v1/{HOME}/btn-hall/cmd",
        "eldercare/v1/h-0001/x",
        "eldercare/v1/_normalised/09/h-0001/pir/event",
        "zigbee2mqtt/h-0001/pir",
        "zigbee2mqtt/h-0001/sos",
        "zigbee2mqtt/h-0001/bridge/state",
        "zigbee2mqtt/door",
        "zigbee2mqtt/door/availability",
        "zigbee2mqtt/unknown-lamp",
    ]
) | st.text(max_size=40).map(lambda rest: f"eldercare/v1/{rest}")


@pytest.fixture(autouse=True, scope="module")
def quiet_logs() -> Iterator[None]:
    """Thousands of quarantines: logging each would make this test about the terminal."""
    configure_logging("CRITICAL")
    yield
    structlog.reset_defaults()


def run_now(coroutine: Coroutine[Any, Any, Any]) -> Any:
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("Gateway.handle awaited something")


def fresh_gateway() -> Gateway:
    return make_gateway(DEVICES, mappings=MAPPINGS)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(st.tuples(topics, payloads, st.booleans()), min_size=1, max_size=6))
def test_gateway_never_raises_and_every_reject_is_quarantined_with_a_reason(
    messages: list[tuple[str, bytes, bool]],
) -> None:
    """Through either session (``lane``: the life-safety lane, which leaves every reject to
    the main session's copy of the message)."""
    gateway = fresh_gateway()
    for topic, payload, lane in messages:
        if lane:
            out = run_now(gateway.handle_lane(topic, payload))
            assert not [o for o in out if "/_quarantine/" in o.topic], (topic, payload, out)
            continue
        before = (gateway.accepted, gateway.duplicates, gateway.unregistered)
        out = run_now(gateway.handle(topic, payload))
        quarantined = [
            QuarantineRecord.model_validate_json(o.payload)
            for o in out
            if "/_quarantine/" in o.topic
        ]
        for record in quarantined:
            assert record.reason.split(":", 1)[0] in REASON_KINDS, record.reason
            assert record.topic == topic and record.size == len(payload)
        after = (gateway.accepted, gateway.duplicates, gateway.unregistered)
        native_device_topic = (
            topic.startswith(f"eldercare/v1/{HOME}/")
            and topic.endswith(("/event", "/telemetry", "/status"))
            and topic.count("/") == 4
        )
        if native_device_topic and not topic.startswith(f"eldercare/v1/{HOME}/acme/"):
            # Our own contract: every message is accepted, a duplicate, or quarantined.
            assert quarantined or after != before, (topic, payload, out)


@settings(max_examples=2 * EXAMPLES, deadline=None)
@given(payload=payloads, topic=topics)
def test_native_validator_returns_a_message_or_a_reason(payload: bytes, topic: str) -> None:
    result = parse_native(Topics(), topic, payload, max_bytes=150)
    if isinstance(result, Rejected):
        assert result.reason.split(":", 1)[0] in REASON_KINDS
    else:
        problem = check_message(result, START)
        assert problem is None or problem.split(":", 1)[0] in REASON_KINDS


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(payloads, min_size=1, max_size=4), minutes=st.integers(0, 10_000))
def test_adapters_never_raise_and_only_make_checked_contract_messages(
    payloads: list[bytes], minutes: int
) -> None:
    now = START + timedelta(minutes=minutes)
    memories = {name: DeviceMemory() for name in ("zigbee", "generic")}
    for payload in payloads:
        zigbee = adapt_state(DEVICES[1], payload, memories["zigbee"], now)
        generic = adapt_generic(
            MAPPINGS.models["acme-pir"], DEVICES[3], payload, memories["generic"], now
        )
        availability = adapt_availability(DEVICES[2], payload, now)
        for adapted in (zigbee, generic, availability):
            for problem in adapted.problems:
                assert problem.split(":", 1)[0] in REASON_KINDS, problem
            for message in adapted.messages:
                type(message).model_validate_json(message.to_json())  # round-trips the contract
        memories = {"zigbee": zigbee.memory, "generic": generic.memory}
        assert zigbee.messages or zigbee.problems or _quiet_zigbee(payload), payload


def _quiet_zigbee(payload: bytes) -> bool:
    """A z2m object without any field we map (or only non-news) legitimately yields nothing."""
    try:
        data = json.loads(payload)
    except ValueError:
        return False
    return isinstance(data, dict)

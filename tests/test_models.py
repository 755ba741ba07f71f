"""The contract: every model survives a JSON round trip, and bad payloads are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertUpdate,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Evidence,
    LocalizedText,
    Metric,
    Severity,
    Telemetry,
)

idents = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}\Z")
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
seqs = st.integers(min_value=0, max_value=2**63 - 1)
texts = st.text(min_size=1, max_size=50)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)

events = st.builds(
    Event,
    home=idents,
    device=idents,
    seq=seqs,
    ts=times,
    type=st.sampled_from(EventType),
    value=st.dictionaries(texts, scalars, max_size=4),
)
accel = st.builds(
    Telemetry,
    home=idents,
    device=idents,
    seq=seqs,
    ts=times,
    metric=st.just(Metric.ACCEL),
    rate_hz=st.floats(min_value=1, max_value=400),
    samples=st.lists(
        st.tuples(*[st.floats(-16, 16, allow_nan=False)] * 3), min_size=1, max_size=50
    ),
)
scalar_telemetry = st.builds(
    Telemetry,
    home=idents,
    device=idents,
    seq=seqs,
    ts=times,
    metric=st.sampled_from([m for m in Metric if m is not Metric.ACCEL]),
    value=st.floats(-1000, 1000, allow_nan=False),
)
statuses = st.builds(
    DeviceStatus,
    home=idents,
    device=idents,
    state=st.sampled_from(DeviceState),
    ts=st.none() | times,
    reason=st.none() | st.text(max_size=50),
)
alerts = st.builds(
    Alert,
    alert_id=idents,
    home=idents,
    kind=st.sampled_from(AlertKind),
    severity=st.sampled_from(Severity),
    raised_at=times,
    evidence=st.lists(
        st.builds(Evidence, device=idents, seq=st.none() | seqs, type=texts), max_size=3
    ),
    explanation=st.builds(LocalizedText, zh_cn=texts, en=texts),
)
updates = st.builds(
    AlertUpdate,
    alert_id=idents,
    home=idents,
    status=st.sampled_from(AlertStatus),
    at=times,
    actor=st.none() | st.text(max_size=20),
    channel=st.none() | st.text(max_size=20),
    note=st.none() | st.text(max_size=50),
)


@pytest.mark.parametrize(
    "strategy",
    [events, accel, scalar_telemetry, statuses, alerts, updates],
    ids=["event", "accel", "telemetry", "status", "alert", "update"],
)
@given(data=st.data())
def test_round_trip(strategy, data) -> None:
    message = data.draw(strategy)
    again = type(message).model_validate_json(message.to_json())
    assert again == message


def test_epoch_milliseconds_and_iso_mean_the_same_instant() -> None:
    base = {"home": "h-1", "device": "btn", "seq": 1, "type": "call_button"}
    from_ms = Event.model_validate({**base, "ts": 1764058443120})
    from_iso = Event.model_validate({**base, "ts": "2025-11-25T16:14:03.120+08:00"})
    assert from_ms.ts == from_iso.ts


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"ts": "2026-11-25T08:14:03"}, "timezone"),
        ({"ts": True}, "ts"),
        ({"home": "a/b"}, "home"),
        ({"home": "_quarantine"}, "home"),
        ({"seq": -1}, "seq"),
        ({"type": "teleport"}, "type"),
        ({"schema": 2}, "schema"),
        ({"colour": "red"}, "colour"),
        ({"value": {"level": float("inf")}}, "finite"),
    ],
)
def test_event_refuses(change, problem) -> None:
    payload = {
        "schema": 1,
        "home": "h-1",
        "device": "btn",
        "seq": 1,
        "ts": "2026-11-25T08:14:03+08:00",
        "type": "call_button",
        **change,
    }
    with pytest.raises(ValidationError) as caught:
        Event.model_validate(payload)
    assert problem in str(caught.value)


def test_accel_telemetry_needs_samples_and_rate() -> None:
    now = datetime.now(UTC)
    with pytest.raises(ValidationError, match="samples and rate_hz"):
        Telemetry(home="h", device="p", seq=1, ts=now, metric=Metric.ACCEL)
    with pytest.raises(ValidationError, match="needs a value"):
        Telemetry(home="h", device="t", seq=1, ts=now, metric=Metric.TEMPERATURE)


def test_alert_serialises_language_tags_as_the_design_shows() -> None:
    alert = Alert(
        alert_id="01J",
        home="h-0001",
        kind=AlertKind.CALL_BUTTON,
        severity=Severity.CRITICAL,
        raised_at=datetime.now(UTC) - timedelta(seconds=1),
        explanation=LocalizedText(zh_cn="门厅呼叫按钮被按下", en="Hall call button pressed"),
    )
    assert b'"zh-CN":"' in alert.to_json()
    assert b'"schema":1' in alert.to_json()
    assert alert.explanation.get("en-GB") == "Hall call button pressed"
    assert alert.explanation.get("zh") == "门厅呼叫按钮被按下"

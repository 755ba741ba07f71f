"""The intake's decisions without a broker: quarantine, resident feedback, database outages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from alerting.api import AlertingApi
from alerting.service import AlertIntake
from eldercare import failures
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.models import (
    Alert,
    AlertKind,
    CommandKind,
    DeviceCommand,
    QuarantineRecord,
    Severity,
)
from eldercare.settings import Settings
from tests.alerting_support import make_alert

START = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)


@pytest.fixture
async def api(tmp_path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    await migrate(engine)
    yield AlertingApi(engine, SimulatedClock(START))
    await engine.dispose()


async def test_a_database_outage_holds_the_alert_instead_of_dropping_it(
    api: AlertingApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failures, "RETRY_MIN_S", 0.01)
    real_record, calls = api.record, []

    async def flaky(alert: Alert):  # type: ignore[no-untyped-def]
        calls.append(alert.alert_id)
        if len(calls) <= 2:
            raise OperationalError("INSERT INTO alerts", {}, Exception("database is locked"))
        return await real_record(alert)

    monkeypatch.setattr(api, "record", flaky)
    settings = Settings()
    intake = AlertIntake(settings, SimulatedClock(START), api)
    alert = make_alert("I1", START)
    out = await intake.handle(settings.topics.home_alerts("h-0001"), alert.to_json())
    assert len(calls) == 3
    assert (await api.get("I1")).kind is AlertKind.CALL_BUTTON
    [received, update] = out
    assert received.topic == "eldercare/v1/h-0001/btn-hall/cmd"
    command = DeviceCommand.model_validate_json(received.payload)
    assert (command.command, command.alert_id) == (CommandKind.ALERT_RECEIVED, "I1")
    assert update.topic == "eldercare/v1/alerts/I1/updates"


async def test_only_people_related_alerts_talk_back_to_the_home(api: AlertingApi) -> None:
    settings = Settings()
    intake = AlertIntake(settings, SimulatedClock(START), api)
    smoke = make_alert("I2", START, kind=AlertKind.SMOKE, severity=Severity.CRITICAL)
    out = await intake.handle(settings.topics.home_alerts("h-0001"), smoke.to_json())
    assert [o.topic for o in out] == ["eldercare/v1/alerts/I2/updates"]
    # a redelivered alert (QoS 1 after a restart) is not a second trigger
    assert await intake.handle(settings.topics.home_alerts("h-0001"), smoke.to_json()) == []
    assert (await api.get("I2")).trigger_count == 1


async def test_an_alert_that_fails_the_schema_is_quarantined_like_a_device_message(
    api: AlertingApi,
) -> None:
    """One record builder for every service: the topic below ``_quarantine``, the home the
    topic names, the reason, and the payload's size with only its first bytes."""
    settings = Settings()
    intake = AlertIntake(settings, SimulatedClock(START), api)
    topic = settings.topics.home_alerts("h-0001")
    payload = b'{"kind": "call_button", "pad": "' + "呼".encode() * 400 + b'"}'
    [out] = await intake.handle(topic, payload)
    assert (out.topic, out.qos) == ("eldercare/v1/_quarantine/h-0001/alerts", 1)
    record = QuarantineRecord.model_validate_json(out.payload)
    assert (record.home, record.topic, record.received_at) == ("h-0001", topic, START)
    assert record.reason.startswith("alert schema: ")
    assert record.size == len(payload) > 512
    assert record.payload_head == payload[:512].decode("utf-8", errors="replace")
    assert intake.rejected == 1


async def test_the_lane_stores_a_call_button_alert_the_main_session_has_not_reached(
    api: AlertingApi,
) -> None:
    """Issue 18: a press queued behind a burst of alerts on the main session waited seconds;
    the lane stores it at once, and the main session's copy then changes nothing."""
    settings = Settings()
    intake = AlertIntake(settings, SimulatedClock(START), api)
    topic = settings.topics.home_alerts("h-0001")
    press = make_alert("L1", START)
    [received, update] = await intake.handle_lane(topic, press.to_json())
    assert DeviceCommand.model_validate_json(received.payload).alert_id == "L1"
    assert update.topic == "eldercare/v1/alerts/L1/updates"
    assert await intake.handle(topic, press.to_json()) == []  # the main session's copy
    assert (await api.get("L1")).trigger_count == 1


async def test_the_lane_leaves_other_kinds_and_unreadable_payloads_to_the_main_session(
    api: AlertingApi,
) -> None:
    settings = Settings()
    intake = AlertIntake(settings, SimulatedClock(START), api)
    topic = settings.topics.home_alerts("h-0001")
    late = make_alert("L2", START, kind=AlertKind.NO_WAKE_UP, severity=Severity.HIGH)
    assert await intake.handle_lane(topic, late.to_json()) == []
    assert await intake.handle_lane(topic, b'{"kind": "call_button"}') == []
    assert intake.rejected == 0  # rejecting (and quarantining) is the main session's
    assert len(await intake.handle(topic, late.to_json())) == 1  # stored by the main session


async def test_the_lane_and_the_main_session_never_store_side_by_side(
    api: AlertingApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both may hold the same alert at once; one store at a time keeps the second copy a
    no-op (as with one session) instead of two transactions racing to insert it."""
    real_record, order = api.record, []
    go_on = asyncio.Event()

    async def slow(alert: Alert):  # type: ignore[no-untyped-def]
        order.append(f"start {alert.alert_id}")
        if alert.alert_id == "L3":
            await go_on.wait()
        try:
            return await real_record(alert)
        finally:
            order.append(f"end {alert.alert_id}")

    monkeypatch.setattr(api, "record", slow)
    settings = Settings()
    intake = AlertIntake(settings, SimulatedClock(START), api)
    topic = settings.topics.home_alerts("h-0001")
    press = make_alert("L3", START)
    main = asyncio.create_task(intake.handle(topic, press.to_json()))
    await asyncio.sleep(0.01)
    lane = asyncio.create_task(intake.handle_lane(topic, press.to_json()))
    await asyncio.sleep(0.01)
    go_on.set()
    assert len(await main) == 2 and await lane == []
    assert order == ["start L3", "end L3", "start L3", "end L3"]
    assert (await api.get("L3")).trigger_count == 1

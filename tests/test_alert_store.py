"""Alert storage and lifecycle, on SQLite and on PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting import api as alerting_api
from alerting.api import AlertingApi, AlertNotFound, TransitionRefused
from benchmarks.alert_store import Statements, hand_overs
from eldercare import failures
from eldercare.clock import SimulatedClock
from eldercare.db.models import EscalationTimerRow
from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Evidence,
    LocalizedText,
    Severity,
)

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def alert(alert_id: str, kind: AlertKind = AlertKind.CALL_BUTTON, **change: object) -> Alert:
    fields = {
        "alert_id": alert_id,
        "home": "h-0001",
        "kind": kind,
        "severity": Severity.CRITICAL,
        "raised_at": START,
        "evidence": [Evidence(device="btn-hall", seq=1, type="call_button")],
        "explanation": LocalizedText(zh_cn="呼叫", en="Call"),
        **change,
    }
    return Alert(**fields)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def api(engine, clock) -> AlertingApi:
    return AlertingApi(engine, clock)


async def test_record_then_list_and_get(api: AlertingApi) -> None:
    update = await api.record(alert("A1"))
    assert update is not None
    assert (update.status, update.alert_id, update.home) == (AlertStatus.OPEN, "A1", "h-0001")
    [view] = await api.list()
    assert view.alert_id == "A1"
    assert view.raised_at == START
    assert view.raised_at.tzinfo is not None
    assert view.explanation == {"zh-CN": "呼叫", "en": "Call"}
    assert (await api.get("A1")).evidence == [
        {"device": "btn-hall", "seq": 1, "type": "call_button"}
    ]


async def test_redelivered_alert_is_not_a_second_trigger(api: AlertingApi) -> None:
    await api.record(alert("A1"))
    assert await api.record(alert("A1")) is None
    assert (await api.get("A1")).trigger_count == 1


async def test_a_redelivery_after_the_alert_was_taken_is_still_stored_once(
    api: AlertingApi, engine: AsyncEngine
) -> None:
    """The redelivered trigger finds no open alert to attach to (it was acknowledged, then
    resolved): it must still be known as stored, not opened again with new timers."""
    await api.record(alert("A1"))
    timers = await _timer_count(engine)
    await api.acknowledge("A1", actor="王芳", channel="dashboard")
    assert await api.record(alert("A1")) is None
    await api.resolve("A1", actor="王芳", channel="dashboard")
    assert await api.record(alert("A1")) is None
    [view] = await api.list(unresolved_only=False)
    assert (view.alert_id, view.status, view.trigger_count) == ("A1", AlertStatus.RESOLVED, 1)
    assert [s.status for s in await api.timeline("A1")] == [
        AlertStatus.OPEN,
        AlertStatus.ACKNOWLEDGED,
        AlertStatus.RESOLVED,
    ]
    assert await _timer_count(engine) == timers > 0


async def _timer_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.scalar(select(func.count()).select_from(EscalationTimerRow))) or 0


async def test_statements_per_stored_alert(api: AlertingApi, engine: AsyncEngine) -> None:
    """Each statement is a trip to the driver (aiosqlite's thread), and a burst's stores hold
    the life-safety lane's behind them: a new alert with its trigger, timeline row and
    timers in 6 (11 on SQLite, 9 on PostgreSQL before issue 18's cut), a redelivery in 1, an
    attached trigger in 4 (docs/alerting.md; ``benchmarks/alert_store.py`` measures)."""
    counted = Statements(engine)
    try:
        await api.record(alert("A1"))
        assert counted.total() == 6
        assert await api.record(alert("A1")) is None
        assert counted.total() == 1
        assert await api.record(alert("A2")) is not None
        assert counted.total() == 4
    finally:
        counted.close()
    assert await _timer_count(engine) > 0


async def test_a_stored_alert_is_one_call_to_the_database(
    api: AlertingApi, engine: AsyncEngine
) -> None:
    """On SQLite each statement through aiosqlite was several hand-overs to its thread, each
    answer waiting for a turn of a busy loop: 22 for a new alert, median 74 ms of the call
    press's alerting hop at 10 000 homes (issue 18). Now a store (new, redelivered or
    attached) is handed over once; PostgreSQL's asyncpg has no thread (none either way)."""
    per_store = 1 if engine.dialect.name == "sqlite" else 0
    with hand_overs() as handed:
        await api.record(alert("A1"))
        assert handed() == per_store
        assert await api.record(alert("A1")) is None
        assert handed() == per_store
        assert await api.record(alert("A2")) is not None
        assert handed() == per_store


async def test_a_store_that_fails_half_way_leaves_nothing_and_the_retry_stores_it_once(
    api: AlertingApi, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alert row is written (flushed) before its escalation is planned; the database
    going away at the plan must roll the row back with the rest, so the intake's retry
    (the message still unacknowledged) stores the alert once, with its timers."""
    monkeypatch.setattr(failures, "RETRY_MIN_S", 0.01)
    real_plan, plans = alerting_api.plan_timers, []

    def plan_once_failing(*args: object, **kwargs: object) -> None:
        plans.append(1)
        if len(plans) == 1:
            raise OperationalError("INSERT INTO escalation_timers", {}, Exception("disk I/O"))
        real_plan(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(alerting_api, "plan_timers", plan_once_failing)
    update = await failures.until_the_database_answers(
        lambda: api.record(alert("A1")), "alert_store_failed_retrying"
    )
    assert update is not None and update.status is AlertStatus.OPEN
    assert len(plans) == 2
    [view] = await api.list()
    assert (view.alert_id, view.trigger_count) == ("A1", 1)
    assert [step.status for step in await api.timeline("A1")] == [AlertStatus.OPEN]
    assert await _timer_count(engine) > 0
    assert await api.record(alert("A1")) is None


async def test_redelivered_trigger_attached_to_an_open_alert_is_not_attached_again(
    api: AlertingApi,
) -> None:
    """Ten presses, each a trigger; the broker redelivers one after a gateway restart."""
    for press in range(1, 11):
        await api.record(
            alert(f"P{press}", evidence=[Evidence(device="btn", seq=press, type="call_button")])
        )
    assert (
        await api.record(alert("P7", evidence=[Evidence(device="btn", seq=7, type="call_button")]))
        is None
    )
    view = await api.get("P1")
    assert view.trigger_count == 10
    assert [item["seq"] for item in view.evidence] == list(range(1, 11))
    assert [step.note for step in await api.timeline("P1")].count(
        "another trigger attached (P7)"
    ) == 1


async def test_second_trigger_attaches_to_the_open_alert_and_raises_severity(
    api: AlertingApi,
) -> None:
    await api.record(alert("A1", AlertKind.INACTIVITY, severity=Severity.HIGH))
    update = await api.record(alert("A2", AlertKind.INACTIVITY, severity=Severity.CRITICAL))
    assert update is not None and update.alert_id == "A1"
    [view] = await api.list()
    assert (view.trigger_count, view.severity) == (2, Severity.CRITICAL)
    assert len(view.evidence) == 2
    # A different kind is a different alert.
    await api.record(alert("A3", AlertKind.SMOKE))
    assert {v.alert_id for v in await api.list()} == {"A1", "A3"}


async def test_ack_then_resolve_with_audit_timeline(api: AlertingApi, clock) -> None:
    await api.record(alert("A1"))
    await clock.advance(42)
    ack = await api.acknowledge("A1", actor="王芳", channel="dashboard")
    assert ack.status is AlertStatus.ACKNOWLEDGED
    view = await api.get("A1")
    assert (view.acknowledged_by, view.acknowledged_at) == ("王芳", START + timedelta(seconds=42))
    with pytest.raises(TransitionRefused):
        await api.acknowledge("A1", actor="李", channel="dashboard")
    await clock.advance(600)
    await api.resolve("A1", actor="王芳", channel="dashboard", note="helped at home")
    steps = await api.timeline("A1")
    assert [(s.status, s.actor) for s in steps] == [
        (AlertStatus.OPEN, "detector"),
        (AlertStatus.ACKNOWLEDGED, "王芳"),
        (AlertStatus.RESOLVED, "王芳"),
    ]
    assert steps[-1].note == "helped at home"
    assert await api.list() == []
    assert [v.alert_id for v in await api.list(unresolved_only=False)] == ["A1"]
    # A resolved alert no longer absorbs new triggers: the next press is a new alert.
    await api.record(alert("A2"))
    assert [v.alert_id for v in await api.list()] == ["A2"]


async def test_unknown_alert(api: AlertingApi) -> None:
    with pytest.raises(AlertNotFound):
        await api.acknowledge("nope", actor="x", channel="dashboard")
    with pytest.raises(AlertNotFound):
        await api.timeline("nope")

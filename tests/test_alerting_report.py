"""``eldercare report response`` over a small alert history."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from alerting.api import AlertingApi, VisitMode, VisitOutcome
from eldercare.app.cli import app
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine, migrate
from tests.alerting_support import WebhookReceiver, make_alert, seed_registry

START = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


async def history(url: str) -> None:
    engine = create_engine(url)
    await migrate(engine)
    await seed_registry(engine, WebhookReceiver(), START, homes=2)
    clock = SimulatedClock(START)
    api = AlertingApi(engine, clock)
    for number, (home, ack_s) in enumerate([("h-0001", 20), ("h-0002", 100)]):
        raised = START + timedelta(days=number)
        clock.set(raised)
        await api.record(make_alert(f"R{number}", raised, home=home))
        clock.set(raised + timedelta(seconds=ack_s))
        await api.acknowledge(f"R{number}", actor="王芳", channel="dashboard")
    await engine.dispose()


def test_report_response_as_table_csv_and_json(tmp_path, monkeypatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'eldercare.db'}"
    asyncio.run(history(url))
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", url)
    runner = CliRunner()
    as_json = runner.invoke(app, ["report", "response", "--station", "s-1", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    [row] = json.loads(as_json.output)
    assert row["station"] == "s-1" and row["month"] == "2026-11"
    assert (row["alerts"], row["ack_median_s"], row["critical_acked_60s"]) == (2, 60.0, 0.5)
    assert row["critical_acked_180s"] == 1.0

    as_csv = runner.invoke(app, ["report", "response", "--month", "2026-11", "--format", "csv"])
    header, line = as_csv.output.strip().splitlines()
    assert header.startswith("station,month,alerts,acknowledged,ack_median_s,ack_p90_s")
    assert line.startswith("s-1,2026-11,2,2,60.0,")

    table = runner.invoke(app, ["report", "response"])
    assert table.output.splitlines()[0].split()[:3] == ["station", "month", "alerts"]
    assert table.output.splitlines()[1].split()[:3] == ["s-1", "2026-11", "2"]
    assert "50.0%" in table.output.splitlines()[1].split()  # a share, shown as a percentage

    empty = runner.invoke(app, ["report", "response", "--month", "2026-10"])
    assert empty.output.strip() == "no alerts in this period"
    bad = runner.invoke(app, ["report", "response", "--month", "11-2026"])
    assert bad.exit_code == 2


async def visits_history(url: str) -> None:
    engine = create_engine(url)
    await migrate(engine)
    await seed_registry(engine, WebhookReceiver(), START, homes=3)
    api = AlertingApi(engine, SimulatedClock(START + timedelta(days=3)))
    await api.record_visit("h-0001", by="王芳", mode=VisitMode.IN_PERSON, outcome=VisitOutcome.WELL)
    await api.record_visit("h-0002", by="王芳", mode=VisitMode.PHONE, outcome=VisitOutcome.CONCERN)
    await api.record_visit(
        "h-0003", by="王芳", mode=VisitMode.PHONE, outcome=VisitOutcome.NOT_REACHED
    )
    await engine.dispose()


def test_report_visits_as_table_csv_and_json(tmp_path, monkeypatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'eldercare.db'}"
    asyncio.run(visits_history(url))
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", url)
    runner = CliRunner()
    as_json = runner.invoke(app, ["report", "visits", "--month", "2026-11", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    [row] = json.loads(as_json.output)
    assert (row["station"], row["homes"], row["reached"], row["coverage"]) == ("s-1", 3, 2, 0.667)
    assert (row["in_person"], row["phone"], row["not_reached"]) == (1, 1, 1)
    assert row["unreached_homes"] == ["h-0003"]

    as_csv = runner.invoke(app, ["report", "visits", "--month", "2026-11", "--format", "csv"])
    header, line = as_csv.output.strip().splitlines()
    assert (
        header == "station,month,homes,reached,coverage,in_person,phone,not_reached,unreached_homes"
    )
    assert line == "s-1,2026-11,3,2,0.667,1,1,1,h-0003"

    table = runner.invoke(app, ["report", "visits", "--month", "2026-11"])
    assert table.output.splitlines()[1].split()[:5] == ["s-1", "2026-11", "3", "2", "66.7%"]
    october = runner.invoke(app, ["report", "visits", "--month", "2026-10", "--format", "json"])
    assert json.loads(october.output)[0]["reached"] == 0
    assert runner.invoke(app, ["report", "visits"]).exit_code == 2  # the month is required


def test_a_month_the_calendar_cannot_hold_is_a_clear_error() -> None:
    """Year 0 passed the old pattern and crashed the coverage query (found by schemathesis)."""
    for month in ("0000-01", "9999-12", "2026-13"):
        result = CliRunner().invoke(app, ["report", "visits", "--month", month])
        assert result.exit_code == 2, (month, result.output)
        assert "YYYY-MM" in result.output

"""The whole feedback path over a real broker: the detector raises no_wake_up, alerting stores
it, a staff member resolves it on the dashboard as a false alarm, and the detector's model
of that home waits longer on such mornings from then on (checkpointed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from detector.activity import feedback
from detector.activity.rule import InactivityRule
from detector.checkpoint import StateFile
from eldercare.app.runtime import Service
from eldercare.clock import SimulatedClock
from simulator.homes import make_homes
from tests.dashboard_world import fast_hashing, log_in, seed_stations
from tests.harness import make_settings, running_system
from tests.test_inactivity_restart_mqtt import SHANGHAI, learned_rule

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures(fast_hashing.__name__)]

SERVICES = [Service.GATEWAY, Service.DETECTOR, Service.ALERTING, Service.DASHBOARD]


async def until(check, clock: SimulatedClock, *, step_s: float = 60, limit: int = 100):  # type: ignore[no-untyped-def]
    """Advance simulated time a step at a time (letting the services run) until ``check()``
    returns something."""
    for _ in range(limit):
        found = await check()
        if found:
            return found
        await clock.advance(step_s)
        await asyncio.sleep(0.05)
    raise AssertionError("gave up waiting")


async def test_a_false_alarm_resolved_on_the_dashboard_widens_the_homes_context(
    mosquitto, tmp_path
) -> None:
    settings = make_settings(mosquitto, tmp_path)
    homes = make_homes(1)
    home = homes[0].home_id
    first_day = datetime(2026, 1, 5, tzinfo=SHANGHAI)  # a Monday
    state_file = StateFile(tmp_path / "detector-state.json")
    state_file.save([learned_rule(home, first_day, 8)])
    today = first_day + timedelta(days=8)  # a Tuesday: a weekday morning
    clock = SimulatedClock((today + timedelta(hours=7)).astimezone(UTC))
    await seed_stations(settings.db_url, {home: "s-1"}, {"wang": ("王芳", "s-1")}, clock.now())
    async with (
        running_system(settings, homes, clock, SERVICES),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as staff,
    ):
        await log_in(staff, "wang")

        async def open_no_wake_up() -> dict | None:
            items = (await staff.get("/api/alerts")).json()["items"]
            return next((a for a in items if a["kind"] == "no_wake_up"), None)

        alert = await until(open_no_wake_up, clock)
        resolved = await staff.post(
            f"/api/alerts/{alert['alert_id']}/resolve",
            json={"outcome": "false_alarm", "note": "在床上看书"},
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["context"] == feedback.wake_context(False)

        async def widened_in_checkpoint() -> dict | None:
            rule = InactivityRule()
            state_file.load([rule])
            widening = rule.homes[home].model.widening
            return widening.entries if widening else None

        entries = await until(widened_in_checkpoint, clock, step_s=30)
        stored = (await staff.get(f"/api/alerts/{alert['alert_id']}")).json()
    assert stored["outcome"] == "false_alarm"
    assert list(entries) == [feedback.wake_slot(False)]

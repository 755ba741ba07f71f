"""Resolving from the dashboard stores the staff's verdict on the alert, shows it on the
timeline, and publishes it with the context the detector gave the alert (issue 20)."""

from __future__ import annotations

import pytest

from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    LocalizedText,
    Outcome,
    Severity,
)
from tests.dashboard_world import START, dashboard_world, fast_hashing

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

CONTEXT = {"rule": "quiet", "block": 11, "place": "bedroom", "state": "asleep"}


def inactivity_alert() -> Alert:
    return Alert(
        alert_id="a-h-1-quiet",
        home="h-1",
        kind=AlertKind.INACTIVITY,
        severity=Severity.HIGH,
        raised_at=START,
        explanation=LocalizedText(**{"zh-CN": "3 小时无任何活动", "en": "No activity for 3 h"}),
        context=CONTEXT,
    )


async def test_resolving_as_a_false_alarm_stores_the_outcome_and_hands_back_the_context(
    engine,
) -> None:
    async with dashboard_world(engine) as world:
        await world.api.record(inactivity_alert())
        async with world.client(await world.token("staff1")) as client:
            response = await client.post(
                "/api/alerts/a-h-1-quiet/resolve",
                json={"outcome": "false_alarm", "note": "睡得很沉"},
            )
            assert response.status_code == 200, response.text
            page = await client.get("/alerts/a-h-1-quiet")
        stored = await world.api.get("a-h-1-quiet")
        assert (stored.status, stored.outcome) == (AlertStatus.RESOLVED, Outcome.FALSE_ALARM)
        resolved = (await world.api.timeline("a-h-1-quiet"))[-1]
        assert (resolved.outcome, resolved.note) == (Outcome.FALSE_ALARM, "睡得很沉")
        assert '<strong class="outcome">误报</strong>' in page.text
        # What goes on the bus to the detector: the verdict and the alert's own context.
        [update] = world.published
        assert (update.outcome, update.context) == (Outcome.FALSE_ALARM, CONTEXT)
        assert response.json()["outcome"] == "false_alarm"


async def test_other_steps_carry_no_verdict(engine) -> None:
    async with dashboard_world(engine) as world:
        await world.api.record(inactivity_alert())
        async with world.client(await world.token("staff1")) as client:
            assert (await client.post("/api/alerts/a-h-1-quiet/ack", json={})).status_code == 200
        [ack] = world.published
        assert (ack.outcome, ack.context) == (None, None)
        assert all(step.outcome is None for step in await world.api.timeline("a-h-1-quiet"))

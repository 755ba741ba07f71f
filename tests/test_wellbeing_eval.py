"""Slow-decline residents in ``eldercare eval scenarios`` (issue 17)."""

from __future__ import annotations

import pytest

from simulator.decline import load_declines
from simulator.evaluation import EvalConfig, evaluate, render_table
from simulator.routine import DAY_S


def test_decline_scenarios_load() -> None:
    declines = {d.name: d for d in load_declines()}
    assert {"illness_onset", "night_toilet_rising", "rising_later", "stable_resident"} <= set(
        declines
    )
    assert declines["stable_resident"].effects.none
    assert all(d.within <= 7 * DAY_S for d in declines.values() if d.expect)


@pytest.mark.slow
async def test_an_illness_onset_is_noticed_within_a_week() -> None:
    """One seeded run through the detector's rules and alerting's writer: the notice comes
    within 7 days of onset, none before, and the decline shows in the table and JSON."""
    chosen = [d for d in load_declines() if d.name == "illness_onset"]
    report = await evaluate(EvalConfig(homes=0, days=1, decline_runs=1), [], declines=chosen)
    (result,) = report.declines
    assert result.status == "pass", result
    assert result.before_onset == 0
    assert result.delays_days[0] is not None and result.delays_days[0] <= 7
    assert "illness_onset" in render_table(report)
    assert '"declines"' in report.model_dump_json()

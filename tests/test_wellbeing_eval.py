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


def test_extra_night_toilet_visits_spread_over_the_whole_night() -> None:
    """The routine's own toilet visit cuts the night's sleep in two; the decline's extra
    visits must fall anywhere in the night (22:30-06:00), not only in its last piece, where
    they crowd together and the sensor sees fewer visits than the scenario says."""
    from simulator.layout import Room
    from simulator.routine import Act, Segment

    scenario = next(d for d in load_declines() if d.name == "night_toilet_rising")
    hour = 3600.0
    day = 40 * DAY_S  # past onset and ramp: the full three extra visits a night
    night = [
        Segment(day + 20 * hour, day + 22 * hour, Room.LIVING_ROOM, Act.TV),
        Segment(day + 22 * hour, day + 26 * hour, Room.BEDROOM, Act.SLEEP),
        Segment(day + 26 * hour, day + 26 * hour + 300, Room.BATHROOM, Act.TOILET),
        Segment(day + 26 * hour + 300, day + 30.5 * hour, Room.BEDROOM, Act.SLEEP),
    ]
    before_own_visit = after = 0
    for seed in range(40):
        script = scenario.script(onset=0.0, seed=seed)
        segments = script.rewrite(list(night), day + 7 * hour, day + 30.5 * hour)
        extra = [s.start for s in segments if s.act is Act.TOILET and s.start != day + 26 * hour]
        before_own_visit += sum(1 for at in extra if at < day + 26 * hour)
        after += sum(1 for at in extra if at > day + 26 * hour)
    assert 2.0 <= (before_own_visit + after) / 40 <= 4.0  # about three a night
    assert before_own_visit >= 0.3 * (before_own_visit + after)  # ~45 % of the night

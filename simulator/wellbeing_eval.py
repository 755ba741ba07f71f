"""Slow-decline and stable residents through the detector's summaries and alerting's trends.

Weeks of life per home, several seeded runs per scenario, so this part of ``eldercare eval
scenarios`` feeds simulated device messages straight to the detector (its inactivity and
wellbeing rules, exactly as the service builds them: the gateway only normalises, and the
simulator's payloads are clean) and every day it emits to alerting's real writer, which
stores it and raises notices in a SQLite database. Ticks every ten simulated minutes are
enough: summaries are due at noon and midnight, nothing here waits on seconds.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from paho.mqtt.client import topic_matches_sub
from pydantic import BaseModel, Field

from alerting.api import AlertingApi
from detector.activity.rule import InactivityRule
from detector.service import Detector
from detector.wellbeing import WellbeingRule
from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.db import prepared_engine
from eldercare.models import DailySummary, WellbeingTrend
from eldercare.settings import Settings
from simulator.decline import DeclineScenario
from simulator.homes import SimulatedHome
from simulator.life import HomeLife, LifeConfig
from simulator.profiles import profile
from simulator.routine import DAY_S
from simulator.stream import merge

TICK_S = 600.0
QUARTER_DAYS = 91
#: Acceptance (issue 17): declines noticed in time in ≥ 90 % of runs; stable residents
#: under one notice per home per quarter.
DETECTION_TARGET = 0.9
STABLE_TARGET = 1.0


class DeclineResult(BaseModel):
    name: str
    kind: Literal["decline", "stable"]
    runs: int
    expected: list[WellbeingTrend]
    within_s: float
    detected: int = Field(description="runs with an expected notice in time")
    detection_rate: float | None
    delays_days: list[float | None] = Field(description="first expected notice, per run")
    before_onset: int = Field(description="notices raised before the decline began")
    notices: dict[str, int]
    per_home_quarter: float | None = Field(description="stable: notices per home per quarter")
    status: Literal["pass", "fail"]


async def evaluate_declines(
    scenarios: Sequence[DeclineScenario],
    *,
    runs: int,
    seed: int,
    folder: Path,
    progress: Callable[[float], None] | None = None,
) -> list[DeclineResult]:
    """Every scenario ``runs`` times (seeds ``seed``…), all homes in one merged stream."""
    if not scenarios or runs <= 0:
        return []
    config = LifeConfig()
    settings = Settings(
        data_dir=folder,
        database_url=f"sqlite+aiosqlite:///{folder / 'wellbeing.db'}",
        log_level="WARNING",
    )
    homes: list[tuple[DeclineScenario, int, float]] = []
    lives: list[HomeLife] = []
    ends: list[float] = []
    for scenario in scenarios:
        onset = config.start + scenario.onset_day * DAY_S
        for run in range(runs):
            run_seed = seed * 1000 + run
            home = SimulatedHome(scenario.home_id(run), topics=settings.topics)
            script = scenario.script(onset, run_seed)
            lives.append(HomeLife(home, profile(scenario.profile), run_seed, config, script))
            homes.append((scenario, run, onset))
            ends.append(onset + scenario.observe)
    clock = SimulatedClock(datetime.fromtimestamp(config.start, UTC))
    engine = await prepared_engine(settings)
    try:
        api = AlertingApi(engine, clock)
        inactivity = InactivityRule()
        detector = Detector(settings, clock, [inactivity, WellbeingRule(inactivity)])
        await _replay(detector, api, clock, merge(lives, ends), max(ends), progress)
        raised = await api.notices(status=None)
    finally:
        await engine.dispose()
    by_home: dict[str, list[tuple[WellbeingTrend, float]]] = {}
    for notice in raised:
        by_home.setdefault(notice.home, []).append((notice.kind, notice.raised_at.timestamp()))
    return [
        _judge(
            scenario,
            [
                (onset, by_home.get(scenario.home_id(run), []))
                for s, run, onset in homes
                if s is scenario
            ],
            config,
        )
        for scenario in scenarios
    ]


async def _replay(
    detector: Detector,
    api: AlertingApi,
    clock: SimulatedClock,
    stream,
    until: float,
    progress: Callable[[float], None] | None,
) -> None:
    start = clock.now().timestamp()
    next_tick = start + TICK_S

    days = detector.topics.all_daily_summaries_filter

    async def deliver(outgoing: Sequence[Outgoing]) -> None:
        for message in outgoing:  # the detector's alerts are the other evaluation's business
            if topic_matches_sub(days, message.topic):
                await api.record_day(DailySummary.model_validate_json(message.payload))

    for emission in stream:
        while next_tick <= emission.at:
            clock.set(datetime.fromtimestamp(next_tick, UTC))
            await deliver(detector.tick())
            next_tick += TICK_S
            if progress is not None and next_tick % DAY_S < TICK_S:
                progress(min(1.0, (next_tick - start) / (until - start)))
        now = datetime.fromtimestamp(emission.at, UTC)
        if now > clock.now():
            clock.set(now)
        await deliver(await detector.handle(emission.topic, emission.payload))
    while next_tick <= until + DAY_S:  # the last day's summary
        clock.set(datetime.fromtimestamp(next_tick, UTC))
        await deliver(detector.tick())
        next_tick += TICK_S


def _judge(
    scenario: DeclineScenario,
    runs: list[tuple[float, list[tuple[WellbeingTrend, float]]]],
    config: LifeConfig,
) -> DeclineResult:
    stable = scenario.effects.none
    delays: list[float | None] = []
    before = 0
    kinds: Counter[str] = Counter()
    counted_notices = 0
    for onset, notices in runs:
        kinds.update(kind.value for kind, _ in notices)
        before += sum(1 for _, at in notices if at < onset)
        # stable residents: every notice after the first four weeks (the trend's baseline)
        counted_notices += sum(1 for _, at in notices if at >= config.start + 28 * DAY_S)
        hits = [at - onset for kind, at in notices if kind in scenario.expect and at >= onset]
        delays.append(round(min(hits) / DAY_S, 1) if hits else None)
    detected = sum(1 for d in delays if d is not None and d * DAY_S <= scenario.within)
    counted_days = len(runs) * (scenario.onset_day - 28 + scenario.observe / DAY_S)
    per_quarter = counted_notices / counted_days * QUARTER_DAYS if stable and counted_days else None
    rate = detected / len(runs) if not stable and runs else None
    if stable:
        ok = per_quarter is not None and per_quarter < STABLE_TARGET
    else:
        ok = rate is not None and rate >= DETECTION_TARGET and before == 0
    return DeclineResult(
        name=scenario.name,
        kind="stable" if stable else "decline",
        runs=len(runs),
        expected=scenario.expect,
        within_s=scenario.within,
        detected=detected,
        detection_rate=None if rate is None else round(rate, 3),
        delays_days=delays,
        before_onset=before,
        notices=dict(kinds),
        per_home_quarter=None if per_quarter is None else round(per_quarter, 2),
        status="pass" if ok else "fail",
    )


def render_declines(results: Sequence[DeclineResult]) -> list[str]:
    """Table lines for ``eval scenarios``: one per decline or stable scenario."""
    lines = []
    for result in results:
        if result.kind == "stable":
            figure = f"{result.per_home_quarter} notices/home-quarter (< {STABLE_TARGET:g})"
        else:
            known = [d for d in result.delays_days if d is not None]
            median = f", median {statistics.median(known):.1f} d" if known else ""
            figure = (
                f"{result.detected}/{result.runs} in ≤ {result.within_s / DAY_S:.0f} d{median}"
                f" (≥ {DETECTION_TARGET:.0%})"
            )
        expected = ", ".join(kind.value for kind in result.expected) or "no notice"
        lines.append(f"{result.name} | {expected} | {figure} | {result.status.upper()}")
    return lines

"""``eldercare eval scenarios``: every scenario through the real gateway, detector and alerting.

One run holds every scenario's home (normal life for the learning days, then its incident)
and N normal homes, all merged into one stream and replayed in-process on a
``SimulatedClock``: raw payloads go through ``Gateway.handle`` → ``Detector.handle``/``tick``
→ ``AlertIntake.handle`` with a SQLite store in a temporary folder. Each service is wired by
the subscriptions it declares (``subscriptions()``), the list its MQTT session reads too.
What the detector raised is then compared with each scenario's expectations, and the
normal homes give the false alarm rate after the learning period.

An expected alert kind that no detector rule declares (``Rule.kinds``) and that nothing
raised is reported as *pending*: the scenario is not hidden and not failed, and it is
checked automatically as soon as a rule for that kind exists.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from alerting.api import AlertingApi
from alerting.service import AlertingIntakes
from detector.rules import Rule
from detector.service import TICK_S, Detector
from eldercare.bus import Outgoing
from eldercare.clock import SimulatedClock
from eldercare.db import prepared_engine
from eldercare.models import Alert, AlertKind, ConditionCleared, Severity
from eldercare.settings import Settings
from gateway.registry import Registry, register_home
from gateway.service import Gateway
from simulator.decline import DeclineScenario, load_declines
from simulator.faults import FaultPlan
from simulator.inprocess import InProcessBus
from simulator.life import HomeLife, LifeConfig
from simulator.routine import DAY_S
from simulator.scenarios import Scenario, load_scenarios
from simulator.stream import StagedScenario, normal_lives, run_stream, stage
from simulator.wellbeing_eval import DeclineResult, evaluate_declines, render_declines

CheckStatus = Literal["met", "late", "missed", "pending", "ok", "violated"]
ScenarioStatus = Literal["pass", "fail", "pending"]


class RaisedAlert(BaseModel):
    kind: AlertKind
    severity: Severity
    delay_s: float = Field(description="seconds after the scenario's reference time")


class ExpectationResult(BaseModel):
    kind: AlertKind
    within_s: float
    severity: Severity | None
    status: CheckStatus
    delay_s: float | None = None


class ForbiddenResult(BaseModel):
    kind: AlertKind
    severity: Severity | None
    status: CheckStatus


class ScenarioResult(BaseModel):
    name: str
    home: str
    status: ScenarioStatus
    expected: list[ExpectationResult]
    forbidden: list[ForbiddenResult]
    raised: list[RaisedAlert]
    before_incident: list[AlertKind] = Field(description="alerts on its normal days")


class FalseAlarm(BaseModel):
    home: str
    kind: AlertKind
    raised_at: datetime
    explanation: str


class NormalDays(BaseModel):
    homes: int
    days: int
    learning_days: int
    home_days_counted: float
    false_alarms: int
    per_home_month: float | None
    by_kind: dict[str, int]
    alarms: list[FalseAlarm] = Field(
        default_factory=list, description="each false alarm, so it can be looked into"
    )


class EvalReport(BaseModel):
    seed: int
    scenarios: list[ScenarioResult]
    normal: NormalDays
    detector_kinds: list[AlertKind]
    messages: int
    quarantined: int
    duplicates_dropped: int
    faults: FaultPlan
    wall_s: float
    declines: list[DeclineResult] = Field(
        default_factory=list, description="slow-decline and stable residents (wellbeing notices)"
    )

    @property
    def failed(self) -> list[str]:
        return [r.name for r in [*self.scenarios, *self.declines] if r.status == "fail"]


#: Faults of a bad day in the field: what ``--faults`` turns on.
STANDARD_FAULTS = FaultPlan(
    duplicate=0.02,
    out_of_order=0.02,
    max_delay_s=20.0,
    garbage=0.002,
    skewed_devices=0.1,
    max_skew_s=60.0,
)


class EvalConfig(BaseModel):
    homes: int = Field(5, ge=0, description="normal homes, for the false alarm rate")
    days: int = Field(14, ge=1, description="days of life per normal home")
    learning_days: int = Field(7, ge=0, description="days before scenarios and counting")
    seed: int = 0
    faults: FaultPlan = FaultPlan()
    accel_rate_hz: float = Field(50.0, gt=0)
    decline_runs: int = Field(0, ge=0, description="seeded runs per slow-decline scenario")


def _detector(settings: Settings, clock: SimulatedClock, rules: Sequence[Rule] | None) -> Detector:
    """The detector exactly as the service builds it (default rules unless given)."""
    return Detector(settings, clock, rules)


def _declared_kinds(detector: Detector) -> frozenset[AlertKind]:
    kinds: set[AlertKind] = set()
    for rule in detector.rules:
        kinds |= set(getattr(rule, "kinds", frozenset()))
    return frozenset(kinds)


async def evaluate(
    config: EvalConfig,
    scenarios: Sequence[Scenario] | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    progress: Callable[[float], None] | None = None,
    declines: Sequence[DeclineScenario] | None = None,
) -> EvalReport:
    """Run ``scenarios`` and normal homes; ``progress`` gets the share of simulated time done
    (a full run takes a minute or more, and a silent one looks hung)."""
    started = time.perf_counter()
    scenarios = load_scenarios() if scenarios is None else scenarios
    life_config = LifeConfig(accel_rate_hz=config.accel_rate_hz)
    with tempfile.TemporaryDirectory(prefix="eldercare-eval-") as scratch:
        folder = Path(scratch)
        settings = Settings(
            data_dir=folder,
            database_url=f"sqlite+aiosqlite:///{folder / 'eval.db'}",
            log_level="WARNING",
        )
        staged = [
            stage(s, config.learning_days, config.seed, life_config, settings.topics)
            for s in scenarios
        ]
        normal = normal_lives(config.homes, config.seed, life_config, topics=settings.topics)
        normal_end = life_config.start + config.days * DAY_S
        lives: list[HomeLife] = [*(s.life for s in staged), *normal]
        ends = [*(s.observe_until for s in staged), *([normal_end] * len(normal))]

        clock = SimulatedClock(datetime.fromtimestamp(life_config.start, UTC))
        engine = await prepared_engine(settings)
        try:
            for life in lives:
                await register_home(engine, life.home.home_id, life.home.devices, now=clock.now())
            gateway = Gateway(settings, clock)
            gateway.set_registry(await Registry(engine, clock).snapshot())
            detector = _detector(settings, clock, rules)
            alerting = AlertingIntakes(settings, clock, AlertingApi(engine, clock))
            raised: list[Alert] = []
            bus = InProcessBus()
            for service in (gateway, detector, alerting):
                bus.serve(service.subscriptions())
            topics = settings.topics
            bus.tap(topics.all_alerts_filter, lambda _topic, payload: _collect(raised, payload))
            messages = await _replay(
                bus,
                [gateway.tick, detector.tick],
                clock,
                run_stream(lives, ends, config.faults, config.seed),
                max(ends, default=life_config.start),
                progress,
            )
        finally:
            await engine.dispose()
        decline_results = await evaluate_declines(
            load_declines() if declines is None else declines,
            runs=config.decline_runs,
            seed=config.seed,
            folder=folder,
        )

    covered = _declared_kinds(detector) | {alert.kind for alert in raised}
    by_home: dict[str, list[Alert]] = {}
    for alert in raised:
        by_home.setdefault(alert.home, []).append(alert)
    results = [_judge(s, by_home.get(s.life.home.home_id, []), covered) for s in staged]
    counted_from = datetime.fromtimestamp(life_config.start + config.learning_days * DAY_S, UTC)
    false_alarms = [
        alert
        for life in normal
        for alert in by_home.get(life.home.home_id, [])
        if alert.raised_at >= counted_from
    ]
    home_days = len(normal) * max(0, config.days - config.learning_days)
    return EvalReport(
        seed=config.seed,
        scenarios=results,
        normal=NormalDays(
            homes=len(normal),
            days=config.days,
            learning_days=config.learning_days,
            home_days_counted=home_days,
            false_alarms=len(false_alarms),
            per_home_month=len(false_alarms) / home_days * 30 if home_days else None,
            by_kind=dict(Counter(alert.kind.value for alert in false_alarms)),
            alarms=[
                FalseAlarm(
                    home=alert.home,
                    kind=alert.kind,
                    raised_at=alert.raised_at,
                    explanation=alert.explanation.en,
                )
                for alert in false_alarms
            ],
        ),
        detector_kinds=sorted(_declared_kinds(detector)),
        messages=messages,
        quarantined=sum(gateway.quarantined.values()),
        duplicates_dropped=gateway.duplicates,
        faults=config.faults,
        wall_s=round(time.perf_counter() - started, 2),
        declines=decline_results,
    )


def _collect(raised: list[Alert], payload: bytes) -> None:
    """Keep each alert the detector raised; a ``ConditionCleared`` shares the alert topic."""
    try:
        raised.append(Alert.model_validate_json(payload))
    except ValidationError:
        ConditionCleared.model_validate_json(payload)  # anything else is a contract bug


#: Simulated seconds between progress reports.
PROGRESS_EVERY_S = 3600


async def _replay(
    bus: InProcessBus,
    tickers: Sequence[Callable[[], Sequence[Outgoing]]],
    clock: SimulatedClock,
    stream,
    until: float,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Deliver each message at its time; every TICK_S in between, tick the services that act
    on silence (gateway liveness, detector timers) as their service loops would."""
    start = clock.now().timestamp()
    next_tick = start + TICK_S
    count = 0

    async def tick_until(limit: float) -> None:
        nonlocal next_tick
        while next_tick <= limit:
            clock.set(datetime.fromtimestamp(next_tick, UTC))
            for tick in tickers:
                for outgoing in tick():
                    await bus.publish(outgoing.topic, outgoing.payload)
            next_tick += TICK_S
            if progress is not None and next_tick % PROGRESS_EVERY_S < TICK_S:
                progress(min(1.0, (next_tick - start) / max(until - start, 1.0)))

    for emission in stream:
        await tick_until(emission.at)
        now = datetime.fromtimestamp(emission.at, UTC)
        if now > clock.now():
            clock.set(now)
        await bus.publish(emission.topic, emission.payload)
        count += 1
    await tick_until(until)
    if progress is not None:
        progress(1.0)
    return count


def _judge(
    staged: StagedScenario, alerts: list[Alert], covered: frozenset[AlertKind]
) -> ScenarioResult:
    scenario = staged.scenario
    window_start = datetime.fromtimestamp(staged.at, UTC)
    window_end = datetime.fromtimestamp(staged.observe_until, UTC)
    reference = staged.measure_from
    during = [a for a in alerts if window_start <= a.raised_at < window_end]
    before = [a.kind for a in alerts if a.raised_at < window_start]

    expected = []
    for expectation in scenario.expect:
        if expectation.kind not in covered:
            expected.append(
                ExpectationResult(
                    kind=expectation.kind,
                    within_s=expectation.within,
                    severity=expectation.severity,
                    status="pending",
                )
            )
            continue
        matching = [
            a
            for a in during
            if a.kind is expectation.kind
            and (expectation.severity is None or a.severity.rank >= expectation.severity.rank)
        ]
        delay = min((a.raised_at.timestamp() - reference for a in matching), default=None)
        status: CheckStatus = (
            "missed" if delay is None else "met" if delay <= expectation.within else "late"
        )
        expected.append(
            ExpectationResult(
                kind=expectation.kind,
                within_s=expectation.within,
                severity=expectation.severity,
                status=status,
                delay_s=None if delay is None else round(delay, 1),
            )
        )
    forbidden = []
    for rule in scenario.forbid:
        hit = any(
            a.kind is rule.kind and (rule.severity is None or a.severity is rule.severity)
            for a in during
        )
        status = "violated" if hit else "ok" if rule.kind in covered else "pending"
        forbidden.append(ForbiddenResult(kind=rule.kind, severity=rule.severity, status=status))

    checks = [*expected, *forbidden]
    if any(check.status in {"missed", "late", "violated"} for check in checks):
        verdict: ScenarioStatus = "fail"
    elif any(check.status == "pending" for check in expected) or (
        not expected and all(check.status == "pending" for check in forbidden)
    ):
        verdict = "pending"
    else:
        verdict = "pass"
    return ScenarioResult(
        name=scenario.name,
        home=staged.life.home.home_id,
        status=verdict,
        expected=expected,
        forbidden=forbidden,
        raised=[
            RaisedAlert(
                kind=a.kind,
                severity=a.severity,
                delay_s=round(a.raised_at.timestamp() - reference, 1),
            )
            for a in during
        ],
        before_incident=before,
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 120:
        return f"{sign}{seconds:.0f}s"
    if seconds < 7200:
        return f"{sign}{seconds / 60:.0f}min"
    return f"{sign}{seconds / 3600:.1f}h"


def render_table(report: EvalReport) -> str:
    """The table for the README: one line per scenario, then the false alarm rate."""
    rows = [("scenario", "expected (≤ deadline)", "raised (delay)", "status")]
    for result in report.scenarios:
        expected = (
            ", ".join(
                f"{e.kind.value}≤{_duration(e.within_s)}"
                + (f" [{e.status}]" if e.status != "met" else "")
                for e in result.expected
            )
            or "none"
        )
        forbidden = [
            f"!{f.kind.value}" + (f"@{f.severity.value}" if f.severity else "")
            for f in result.forbidden
            if f.status == "violated"
        ]
        raised = (
            ", ".join(
                f"{r.kind.value}/{r.severity.value} ({_duration(r.delay_s)})" for r in result.raised
            )
            or "none"
        )
        if forbidden:
            raised += " — forbidden: " + ", ".join(forbidden)
        rows.append((result.name, expected, raised, result.status.upper()))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    normal = report.normal
    rate = "n/a" if normal.per_home_month is None else f"{normal.per_home_month:.2f}"
    kinds = (
        ", ".join(f"{kind}: {count}" for kind, count in sorted(normal.by_kind.items())) or "none"
    )
    counts = Counter(result.status for result in report.scenarios)
    detector_kinds = ", ".join(kind.value for kind in report.detector_kinds) or "none"
    lines += [
        "",
        f"scenarios: {counts['pass']} pass, {counts['fail']} fail, {counts['pending']} pending "
        f"(no detector yet); detector kinds: {detector_kinds}",
        f"normal days: {normal.homes} homes × {normal.days} days, first {normal.learning_days} "
        f"for learning; false alarms: {normal.false_alarms} over {normal.home_days_counted:.0f} "
        f"home-days = {rate} per home-month ({kinds})",
        f"messages: {report.messages}, quarantined: {report.quarantined}, duplicates dropped: "
        f"{report.duplicates_dropped}, wall time: {report.wall_s:.1f} s",
    ]
    if report.declines:
        lines += [
            "",
            "slow decline (wellbeing notices, seeded runs):",
            *render_declines(report.declines),
        ]
    return "\n".join(lines)

"""What every detector rule looks like to the detector service.

Falls, inactivity, hazards and device health are separate rules sharing one shape, so
the service wires them once: each message goes to every rule, and a clock tick lets rules
that watch for what does NOT happen (no wake-up, bathroom too long) fire on time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from eldercare.models import (
    Alert,
    AlertKind,
    AlertUpdate,
    ConditionCleared,
    DailySummary,
    DeviceStatus,
    Event,
    SeriesPoint,
    Telemetry,
)


@dataclass
class RuleOutput:
    alerts: list[Alert] = field(default_factory=list)
    points: list[SeriesPoint] = field(default_factory=list)
    #: Conditions that ended by themselves: their alerts are resolved as recovered.
    cleared: list[ConditionCleared] = field(default_factory=list)
    #: Days that ended (``detector.wellbeing``), published for alerting to store.
    summaries: list[DailySummary] = field(default_factory=list)

    def extend(self, other: RuleOutput) -> None:
        self.alerts.extend(other.alerts)
        self.points.extend(other.points)
        self.cleared.extend(other.cleared)
        self.summaries.extend(other.summaries)


class Rule(Protocol):
    """A detector rule. Methods get the message and the clock's time; they never block.

    ``kinds`` declares the alert kinds the rule can raise, so the scenario evaluation knows
    which expectations it can check and which are still waiting for their detector.
    """

    name: str
    kinds: frozenset[AlertKind]

    def on_event(self, event: Event, now: datetime) -> RuleOutput: ...

    def on_telemetry(self, telemetry: Telemetry, now: datetime) -> RuleOutput: ...

    def on_status(self, status: DeviceStatus, now: datetime) -> RuleOutput: ...

    def on_tick(self, now: datetime) -> RuleOutput: ...

    def on_verdict(self, update: AlertUpdate, now: datetime) -> RuleOutput:
        """Staff resolved an alert with an outcome (``update.context`` is what the detector
        said raised it): a rule that learns from the verdict does so here."""
        ...


@runtime_checkable
class TicksInParts(Protocol):
    """A rule whose tick walks every home: ``on_tick`` in parts, one per ``next()``, so
    that the detector serves messages between them (``Detector.tick_in_parts``). Each home
    is checked whole within one part; the parts together give what ``on_tick`` gives."""

    def tick_in_parts(self, now: datetime) -> Iterator[RuleOutput]: ...


def whole_tick(rule: TicksInParts, now: datetime) -> RuleOutput:
    """A rule's ``tick_in_parts`` in one go: its ``on_tick``, for the in-process replays and
    tests, where nothing else waits on the loop."""
    output = RuleOutput()
    for part in rule.tick_in_parts(now):
        output.extend(part)
    return output


class BaseRule:
    """Defaults that ignore everything, so a rule implements only what it watches."""

    name = "base"
    kinds: frozenset[AlertKind] = frozenset()

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        return RuleOutput()

    def on_telemetry(self, telemetry: Telemetry, now: datetime) -> RuleOutput:
        return RuleOutput()

    def on_status(self, status: DeviceStatus, now: datetime) -> RuleOutput:
        return RuleOutput()

    def on_tick(self, now: datetime) -> RuleOutput:
        return RuleOutput()

    def on_verdict(self, update: AlertUpdate, now: datetime) -> RuleOutput:
        return RuleOutput()


class PointSink(Protocol):
    """Where detector scores go (the time-series writer); the default drops nothing silently
    because it is only used where no time series is configured."""

    def write(self, points: list[SeriesPoint]) -> None: ...


class NoSeries:
    def write(self, points: list[SeriesPoint]) -> None:
        return None

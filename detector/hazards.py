"""Smoke, gas, water leak (events) and indoor temperature out of a safe range for too long.

A hazard event is an alert at once; repeats from the same device within ``REPEAT`` are the
same episode. Temperature alerts need the reading to stay out of range for a while (a
kettle next to the sensor is not a heat wave) and re-arm only after it is back in range.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from detector.alerts import make_alert
from detector.rules import BaseRule, RuleOutput
from eldercare.models import (
    AlertKind,
    Event,
    EventType,
    Evidence,
    Metric,
    SeriesPoint,
    Severity,
    Telemetry,
)

REPEAT = timedelta(minutes=10)
_HAZARDS = {
    EventType.SMOKE: (AlertKind.SMOKE, Severity.CRITICAL, "检测到烟雾", "Smoke detected"),
    EventType.GAS: (AlertKind.GAS, Severity.CRITICAL, "检测到燃气泄漏", "Gas detected"),
    EventType.WATER_LEAK: (AlertKind.WATER_LEAK, Severity.HIGH, "检测到漏水", "Water leak"),
}


@dataclass(frozen=True)
class TemperatureLimits:
    heat_c: float = 32.0
    heat_for: timedelta = timedelta(minutes=30)
    cold_c: float = 14.0
    cold_for: timedelta = timedelta(minutes=60)
    hysteresis_c: float = 1.0


@dataclass
class _Episode:
    since: datetime | None = None
    side: str = ""
    alerted: bool = False


@dataclass
class HazardRule(BaseRule):
    limits: TemperatureLimits = field(default_factory=TemperatureLimits)
    name: str = "hazards"
    kinds: ClassVar[frozenset[AlertKind]] = frozenset(
        {AlertKind.SMOKE, AlertKind.GAS, AlertKind.WATER_LEAK, AlertKind.TEMPERATURE}
    )
    _last: dict[tuple[str, str, EventType], datetime] = field(default_factory=dict)
    _temps: dict[tuple[str, str], _Episode] = field(default_factory=dict)

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        hazard = _HAZARDS.get(event.type)
        if hazard is None or event.value.get("state") in ("clear", "off", False):
            return RuleOutput()
        key = (event.home, event.device, event.type)
        previous = self._last.get(key)
        self._last[key] = event.ts
        if previous is not None and abs(event.ts - previous) < REPEAT:
            return RuleOutput()
        kind, severity, zh, en = hazard
        alert = make_alert(
            home=event.home,
            kind=kind,
            severity=severity,
            at=now,
            key=f"{event.device}|{event.seq}",
            zh=f"{zh}（{event.device}，{event.ts.strftime('%H:%M')}）。",
            en=f"{en} by {event.device} at {event.ts.strftime('%H:%M')} UTC.",
            evidence=[Evidence(device=event.device, seq=event.seq, type=event.type.value)],
        )
        return RuleOutput(alerts=[alert])

    def on_telemetry(self, telemetry: Telemetry, now: datetime) -> RuleOutput:
        if telemetry.metric is not Metric.TEMPERATURE or telemetry.value is None:
            return RuleOutput()
        value, limits = telemetry.value, self.limits
        key = (telemetry.home, telemetry.device)
        side = "heat" if value >= limits.heat_c else "cold" if value <= limits.cold_c else ""
        back_in_range = (
            limits.cold_c + limits.hysteresis_c < value < limits.heat_c - limits.hysteresis_c
        )
        output = RuleOutput(
            points=[
                SeriesPoint(
                    measurement="temperature_state",
                    tags={"home": telemetry.home, "device": telemetry.device},
                    fields={"celsius": value, "out_of_range": bool(side)},
                    ts=telemetry.ts,
                )
            ]
        )
        if not side:
            if back_in_range:
                # A fresh episode is no episode: only readings out of range are kept, so a
                # home whose temperature is normal holds nothing here (DESIGN §8).
                self._temps.pop(key, None)
            return output
        episode = self._temps.setdefault(key, _Episode())
        if episode.side != side:
            episode.since, episode.side, episode.alerted = telemetry.ts, side, False
        assert episode.since is not None
        needed = limits.heat_for if side == "heat" else limits.cold_for
        if episode.alerted or telemetry.ts - episode.since < needed:
            return output
        episode.alerted = True
        minutes = int((telemetry.ts - episode.since).total_seconds() // 60)
        limit = limits.heat_c if side == "heat" else limits.cold_c
        zh_side, en_side = ("过热", "too hot") if side == "heat" else ("过冷", "too cold")
        output.alerts.append(
            make_alert(
                home=telemetry.home,
                kind=AlertKind.TEMPERATURE,
                severity=Severity.HIGH,
                at=now,
                key=f"{telemetry.device}|{episode.since.isoformat()}",
                zh=f"室内{zh_side}：{telemetry.device} 读数 {value:.1f}°C，已持续 {minutes} 分钟"
                f"（安全界限 {limit:.0f}°C）。",
                en=f"Indoor {en_side}: {telemetry.device} reads {value:.1f} °C for {minutes} min "
                f"(safe limit {limit:.0f} °C).",
                evidence=[Evidence(device=telemetry.device, seq=telemetry.seq, type="temperature")],
            )
        )
        return output

    # -- checkpoint -----------------------------------------------------------------------

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget the homes ``keep`` refuses (a single instance's state split by shard)."""
        self._last = {key: at for key, at in self._last.items() if keep(key[0])}
        self._temps = {key: episode for key, episode in self._temps.items() if keep(key[0])}

    def snapshot(self) -> bytes:
        """Running temperature episodes and recent hazard events: after a restart a heat
        wave's clock goes on from when it began, and a hazard's repeat is not a new alarm."""
        return json.dumps(
            {
                "last": [[*key, at.isoformat()] for key, at in self._last.items()],
                "temps": [
                    [home, device, e.since and e.since.isoformat(), e.side, e.alerted]
                    for (home, device), e in self._temps.items()
                ],
            }
        ).encode()

    def restore(self, data: bytes) -> None:
        loaded = json.loads(data)
        self._last = {
            (home, device, EventType(kind)): datetime.fromisoformat(at)
            for home, device, kind, at in loaded["last"]
        }
        self._temps = {
            (home, device): _Episode(since and datetime.fromisoformat(since), side, alerted)
            for home, device, since, side, alerted in loaded["temps"]
        }

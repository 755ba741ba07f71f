"""Escalation policies: who is told, when, if nobody has acknowledged (YAML, per station/home).

A policy is data, and choosing and planning are pure functions, so the rules that decide
whether a grandmother's call reaches a person are tested without a database or a broker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from eldercare.logs import get_logger
from eldercare.models import AlertKind, Severity

log = get_logger("alerting.policies")

BUILT_IN = Path(__file__).with_name("default.yaml")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: Any) -> Any:
    """``90``, ``"30s"``, ``"2m"``, ``"4h"``: people write policies, not ISO 8601."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match[1]) * _UNIT_S[match[2]])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Target(StrEnum):
    STATION = "station"
    TECHNICIAN = "technician"
    FAMILY = "family"
    CENTRE = "centre"
    EMERGENCY = "emergency"
    OPERATORS = "operators"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Strict):
    after: Duration = Field(description="time after the alert (or after quiet hours)")
    notify: Target


class QuietHours(_Strict):
    """Local hours in which an alert that may wait does wait (wraps over midnight)."""

    start: time
    end: time

    def release(self, at: datetime, timezone: str) -> datetime:
        """``at`` itself outside quiet hours, else the moment they end."""
        local = at.astimezone(ZoneInfo(timezone))
        start, end, now = self.start, self.end, local.time().replace(tzinfo=None)
        inside = start <= now < end if start <= end else (now >= start or now < end)
        if not inside:
            return at
        release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if release <= local:
            release += timedelta(days=1)
        return release.astimezone(at.tzinfo)


#: Severities whose alerts may expire. A critical or high alert that nobody acknowledges is
#: exactly the one that must stay in front of people, so it never expires by itself.
MAY_EXPIRE = frozenset({Severity.MEDIUM, Severity.LOW})


class EscalationPolicy(_Strict):
    tiers: list[Tier] = Field(min_length=1, description="in firing order")
    quiet_hours: QuietHours | None = None
    expire_after: Duration | None = Field(
        None,
        description="medium/low only: unacknowledged this long after the alert (or after "
        "quiet hours), it becomes expired, and the next trigger opens a new alert",
    )

    @model_validator(mode="after")
    def _tiers_in_order(self) -> Self:
        delays = [tier.after for tier in self.tiers]
        if delays != sorted(delays):
            raise ValueError("tiers must be listed in the order they fire")
        if self.expire_after is not None and self.expire_after <= delays[-1]:
            raise ValueError("expire_after must come after the last tier: every tier gets its turn")
        return self


class PolicyFile(_Strict):
    """One YAML file; a station or home file holds only what it overrides."""

    channels: dict[str, list[str]] = Field(default_factory=dict)
    severities: dict[Severity, EscalationPolicy] = Field(default_factory=dict)
    kinds: dict[AlertKind, EscalationPolicy] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _critical_never_waits(self) -> Self:
        critical = self.severities.get(Severity.CRITICAL)
        if critical is not None and critical.quiet_hours is not None:
            raise ValueError("critical alerts never wait: no quiet_hours for critical")
        for severity, policy in self.severities.items():
            if policy.expire_after is not None and severity not in MAY_EXPIRE:
                raise ValueError(f"{severity} alerts never expire: no expire_after for {severity}")
        return self

    def merged(self, override: PolicyFile) -> PolicyFile:
        return PolicyFile(
            channels={**self.channels, **override.channels},
            severities={**self.severities, **override.severities},
            kinds={**self.kinds, **override.kinds},
        )


@dataclass(frozen=True, slots=True)
class PlannedTimer:
    tier: int
    target: Target
    due_at: datetime


@dataclass(frozen=True, slots=True)
class ChosenPolicy:
    policy: EscalationPolicy
    channels: Mapping[str, list[str]]

    def plan(self, severity: Severity, start: datetime, timezone: str) -> list[PlannedTimer]:
        """Due times of every tier; quiet hours shift the whole ladder, never for critical."""
        start = self._after_quiet_hours(severity, start, timezone)
        return [
            PlannedTimer(number, tier.notify, start + tier.after)
            for number, tier in enumerate(self.policy.tiers)
        ]

    def expires_at(self, severity: Severity, start: datetime, timezone: str) -> datetime | None:
        """When an unacknowledged alert expires; None for critical and high, whatever a
        kind policy says (kinds are not tied to one severity, so this is checked here)."""
        after = self.policy.expire_after
        if after is None or severity not in MAY_EXPIRE:
            return None
        return self._after_quiet_hours(severity, start, timezone) + after

    def _after_quiet_hours(self, severity: Severity, start: datetime, timezone: str) -> datetime:
        quiet = self.policy.quiet_hours
        if quiet is not None and severity is not Severity.CRITICAL:
            return quiet.release(start, timezone)
        return start


class PolicyError(ValueError):
    """A policy file is broken; the message names the file."""


def _load(path: Path) -> PolicyFile:
    """The file's policy, parsed again only when the file changed.

    Parsing YAML and validating it cost ~85 ms of CPU per escalation step; a stat is cheap
    and still lets an edit apply at the next alert.
    """
    try:
        stat = path.stat()
    except OSError as error:
        raise PolicyError(f"{path}: {error}") from None
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)  # bounded: one entry per policy file version in use
def _parse(path: Path, mtime_ns: int, size: int) -> PolicyFile:
    try:
        return PolicyFile.model_validate(yaml.safe_load(path.read_text()) or {})
    except (yaml.YAMLError, ValueError) as error:
        raise PolicyError(f"{path}: {error}") from None


class PolicyBook:
    """The policy folder. Files are read per alert (alerts are rare), so edits apply at once."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def effective(self, station_id: str | None, home_id: str) -> PolicyFile:
        base = self.folder / "default.yaml" if self.folder else None
        policy = _load(base if base and base.exists() else BUILT_IN)
        if self.folder is None:
            return policy
        for override in (
            self.folder / "stations" / f"{station_id}.yaml" if station_id else None,
            self.folder / "homes" / f"{home_id}.yaml",
        ):
            if override is not None and override.exists():
                policy = policy.merged(_load(override))
        return policy

    def choose(
        self, station_id: str | None, home_id: str, kind: AlertKind, severity: Severity
    ) -> ChosenPolicy:
        """A kind-specific policy wins; otherwise severity chooses.

        A severity without its own policy borrows the nearest MORE urgent one: borrowing a
        laxer one could make a serious alert wait for the morning.
        """
        try:
            book = self.effective(station_id, home_id)
        except PolicyError as error:
            # Someone broke a file while we run: escalate by the built-in policy rather
            # than not at all, and say so loudly.
            log.error("policy_broken_using_built_in", error=str(error), home=home_id)
            book = _load(BUILT_IN)
        if kind in book.kinds:
            return ChosenPolicy(book.kinds[kind], book.channels)
        by_rank = sorted(Severity, key=lambda s: s.rank)
        stricter = [s for s in by_rank if s.rank >= severity.rank]
        laxer = [s for s in reversed(by_rank) if s.rank < severity.rank]
        for candidate in stricter + laxer:
            if candidate in book.severities:
                return ChosenPolicy(book.severities[candidate], book.channels)
        raise PolicyError(f"no policy for severity {severity} (home {home_id})")

    def check(self) -> None:
        """Load every file once, so a typo fails at start-up and not at the first alert."""
        self.effective(None, "_")
        if self.folder is not None:
            for path in sorted(self.folder.glob("*/*.yaml")):
                _load(path)

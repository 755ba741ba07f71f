"""Response-time figures telecare services are held to (e.g. 97.5 % of critical alerts
acknowledged within 60 s, 99 % within 180 s), per station and month. Pure arithmetic."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pydantic import BaseModel

from eldercare.models import Severity


@dataclass(frozen=True, slots=True)
class ResponseSample:
    station: str | None
    month: str  # YYYY-MM in the home's timezone
    severity: Severity
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


class ResponseKpis(BaseModel):
    station: str | None
    month: str
    alerts: int
    acknowledged: int
    ack_median_s: float | None
    ack_p90_s: float | None
    resolve_median_s: float | None
    resolve_p90_s: float | None
    critical: int
    critical_acked_60s: float | None  # share of ALL critical alerts (never acked counts as late)
    critical_acked_180s: float | None


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def summarise(station: str | None, month: str, samples: list[ResponseSample]) -> ResponseKpis:
    to_ack = [s for x in samples if (s := _seconds(x.raised_at, x.acknowledged_at)) is not None]
    to_resolve = [s for x in samples if (s := _seconds(x.raised_at, x.resolved_at)) is not None]
    critical = [x for x in samples if x.severity is Severity.CRITICAL]

    def share(limit_s: float) -> float | None:
        if not critical:
            return None
        within = sum(
            1
            for x in critical
            if (s := _seconds(x.raised_at, x.acknowledged_at)) is not None and s <= limit_s
        )
        return round(within / len(critical), 4)

    return ResponseKpis(
        station=station,
        month=month,
        alerts=len(samples),
        acknowledged=len(to_ack),
        ack_median_s=_percentile(to_ack, 50),
        ack_p90_s=_percentile(to_ack, 90),
        resolve_median_s=_percentile(to_resolve, 50),
        resolve_p90_s=_percentile(to_resolve, 90),
        critical=len(critical),
        critical_acked_60s=share(60),
        critical_acked_180s=share(180),
    )


def by_station_and_month(samples: Iterable[ResponseSample]) -> list[ResponseKpis]:
    groups: dict[tuple[str, str], list[ResponseSample]] = {}
    for sample in samples:
        groups.setdefault((sample.station or "", sample.month), []).append(sample)
    return [
        summarise(station or None, month, groups[(station, month)])
        for station, month in sorted(groups)
    ]

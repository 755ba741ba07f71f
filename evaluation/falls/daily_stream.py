"""One long daily-life recording through the detector and the in-home confirmation.

Lab trials are short and strenuous; what a resident lives with is hours of ordinary life,
so the figure that matters is suspicions and alerts *per hour of wear*. A daily-life file
is a CSV of timestamped 3-axis acceleration (``t,x,y,z``: seconds, g), at any rate. It is
cut into one-second batches as a pendant sends them — a new batch wherever the clock
jumps, so a gap in the recording is a gap for the detector too — and played through the
same ``FallRule`` the service runs: every stream alarm is a suspicion, and each suspicion
ends as the rule ends it (critical when nothing moved for the confirmation window, medium
"check in" when the pendant moved). The file holds only the pendant, so no room sensor can
downgrade a suspicion: the critical count is an upper bound of what a home would see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from detector.falls.rule import FallRule
from detector.falls.scoring import Scorer
from detector.falls.stream import FallConfig
from detector.rules import RuleOutput
from eldercare.models import Metric, Severity, Telemetry

#: A pendant's batch length: what the service receives.
BATCH_S = 1.0
#: The home and device the stream is replayed as (names only: one pendant, one home).
HOME, DEVICE = "stream-home", "stream-pendant"


class StreamFileError(ValueError):
    """A file that is not a ``t,x,y,z`` acceleration stream."""


def read_stream_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and samples (n, 3, g) of a ``t,x,y,z`` CSV; a header line is allowed."""
    try:
        table = np.loadtxt(path, delimiter=",", ndmin=2, comments="#", skiprows=_header(path))
    except ValueError as error:
        raise StreamFileError(f"{path}: {error}") from None
    if table.shape[1] != 4 or len(table) < 2:
        raise StreamFileError(f"{path}: expected t,x,y,z rows, got shape {table.shape}")
    times, samples = table[:, 0], table[:, 1:]
    if not np.all(np.diff(times) > 0):
        raise StreamFileError(f"{path}: timestamps must increase")
    return times, samples


def _header(path: Path) -> int:
    """1 if the first line is a column header (not numbers, not a ``#`` comment), else 0."""
    with path.open() as handle:
        first = handle.readline().strip()
    if not first or first.startswith("#"):
        return 0
    try:
        [float(field) for field in first.split(",")]
    except ValueError:
        return 1
    return 0


def stream_batches(
    times: np.ndarray, samples: np.ndarray, batch_s: float = BATCH_S
) -> list[tuple[float, float, np.ndarray]]:
    """``(start, rate_hz, samples)`` batches as a pendant would send them.

    The rate is the median sample spacing of the file. A step of more than 1.5 sample
    periods ends a batch, so a recording's gaps reach the detector as gaps (it restarts
    its stream after more than 2 s) instead of being joined into one invented movement.
    """
    period = float(np.median(np.diff(times)))
    rate = round(1.0 / period, 3)
    breaks = np.flatnonzero(np.diff(times) > 1.5 * period) + 1
    step = max(1, round(batch_s * rate))
    batches = []
    for run_start, run_end in zip(
        np.concatenate([[0], breaks]), np.concatenate([breaks, [len(times)]]), strict=True
    ):
        for begin in range(int(run_start), int(run_end), step):
            end = min(begin + step, int(run_end))
            batches.append((float(times[begin]), rate, samples[begin:end]))
    return batches


@dataclass
class StreamReport:
    """What one daily-life stream cost: suspicions and alerts, per hour of wear."""

    name: str
    hours: float
    rate_hz: float
    suspicions: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    suspected_at: list[float] = field(default_factory=list)  # stream seconds

    def as_dict(self) -> dict[str, object]:
        def per_hour(count: int) -> float | None:
            return count / self.hours if self.hours else None

        return {
            "name": self.name,
            "hours": round(self.hours, 6),
            "rate_hz": self.rate_hz,
            "suspicions": self.suspicions,
            "suspicions_per_hour": per_hour(self.suspicions),
            "alerts": {severity: self.alerts[severity] for severity in _SEVERITIES},
            "alerts_per_hour": {
                severity: per_hour(self.alerts[severity]) for severity in _SEVERITIES
            },
            "suspected_at_s": [round(t, 2) for t in self.suspected_at],
        }


_SEVERITIES = (Severity.CRITICAL.value, Severity.MEDIUM.value, Severity.LOW.value)


def run_stream(
    name: str,
    times: np.ndarray,
    samples: np.ndarray,
    scorer: Scorer,
    config: FallConfig,
    confirm_s: float = 15.0,
) -> StreamReport:
    """Replay one stream through a ``FallRule`` and count what it raised.

    The rule's clock is the stream's: each batch arrives when its last sample was taken.
    After the last batch the clock runs on in two ticks, one past the cut that decides the
    last impact and one past the confirmation window that decision opens: a suspicion raised in
    the stream's last seconds is still resolved (critical: nothing moved afterwards), not
    counted as a suspicion that never ended.
    """
    rule = FallRule(scorer, config, confirm_s=confirm_s)
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    origin = float(times[0])
    batches = stream_batches(times, samples)
    hours = sum(len(b[2]) / b[1] for b in batches) / 3600
    report = StreamReport(name, hours, batches[0][1] if batches else 0.0)

    def at(t: float) -> datetime:
        return epoch + timedelta(seconds=t - origin)

    for seq, (start, rate, chunk) in enumerate(batches):
        telemetry = Telemetry.model_construct(
            home=HOME,
            device=DEVICE,
            seq=seq,
            ts=at(start),
            metric=Metric.ACCEL,
            rate_hz=rate,
            samples=chunk.tolist(),  # our own numbers: no need to validate each sample
        )
        _count(rule.on_telemetry(telemetry, at(start + len(chunk) / rate)), report, epoch)
    # Past the aftermath, and past the silence after which the rule cuts a waiting stream.
    decided = at(float(times[-1])) + rule.cut_after + timedelta(seconds=config.post_s + 1)
    _count(rule.on_tick(decided), report, epoch)
    _count(rule.on_tick(decided + timedelta(seconds=confirm_s + 1)), report, epoch)
    return report


def _count(output: RuleOutput, report: StreamReport, epoch: datetime) -> None:
    for point in output.points:
        if point.fields.get("stage") == "suspected":
            report.suspicions += 1
            report.suspected_at.append((point.ts - epoch).total_seconds())
    for alert in output.alerts:
        report.alerts[alert.severity.value] += 1

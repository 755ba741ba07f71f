"""Small charts drawn on the server as inline SVG: no script, nothing fetched, fine under
the strict CSP, and readable on a station's old tablet.

A wellbeing notice carries its numbers (``evidence``: the days, a value per day, the
baseline's mean); the chart shows them as a line, the baseline as a dashed level, and the
recent days the notice is about on a shaded band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 240.0, 60.0, 4.0


@dataclass(frozen=True)
class Spark:
    points: str  # "x,y x,y …" for a polyline (days without a value leave a gap's neighbours)
    dots: list[tuple[float, float]]
    baseline_y: float | None
    recent_x: float  # where the recent days begin
    width: float = WIDTH
    height: float = HEIGHT


def sparkline(
    values: Sequence[float | None], recent: int, baseline: float | None = None
) -> Spark | None:
    """The values left to right, scaled to the box; None when there is nothing to draw."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    low = min([*known, baseline if baseline is not None else known[0]])
    high = max([*known, baseline if baseline is not None else known[0]])
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)

    def y(value: float) -> float:
        return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 1)

    dots = [
        (round(PAD + index * step, 1), y(value))
        for index, value in enumerate(values)
        if value is not None
    ]
    return Spark(
        points=" ".join(f"{x},{y_}" for x, y_ in dots),
        dots=dots,
        baseline_y=y(baseline) if baseline is not None else None,
        recent_x=round(PAD + max(0, len(values) - recent) * step - step / 2, 1),
    )


def notice_chart(evidence: Mapping[str, object], recent_days: int) -> Spark | None:
    """A notice's evidence as a chart: the recent days are those within ``recent_days`` of
    the newest day (days without a usable summary were left out of the evidence)."""
    days = [date.fromisoformat(str(d)) for d in evidence.get("days", [])]  # type: ignore[attr-defined]
    values = list(evidence.get("values", []))  # type: ignore[call-overload]
    if not days or len(days) != len(values):
        return None
    last = days[-1].toordinal()
    recent = sum(1 for d in days if last - d.toordinal() < recent_days)
    baseline = evidence.get("baseline_mean")
    return sparkline(values, recent, float(baseline) if isinstance(baseline, int | float) else None)

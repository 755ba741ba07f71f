"""Slow decline in a home's days, found robustly: the last days against the weeks before.

Each measure compares the last 5 days with the 21 days before, both trimmed: the recent
day that looks worst is left out (one bad night is not a trend), and the baseline loses
its two highest and two lowest days. It counts as a trend only when the change is large
for this person (``Z`` standard errors of the recent mean, from the baseline's spread) and
large in absolute terms (a floor: one more toilet visit a night, 45 minutes later rising),
and the Theil–Sen slope of the last two weeks points the same way. Medians would be
coarser still: night toilet visits are small whole numbers (0, 1, 2), where the median
and MAD of a week hardly move until the change is huge. A noise floor keeps a person with
a very regular life from being flagged for ten minutes.
Days in holiday mode and days the home saw nothing are left out. Pure functions: alerting
calls them after storing each day, the evaluation and tests call them directly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eldercare.models import DailySummary, WellbeingTrend

RECENT_DAYS = 5
BASELINE_DAYS = 21
#: Fewer valid days than these and the comparison is not made (a new home, a long stay away).
MIN_RECENT, MIN_BASELINE = 4, 14
SLOPE_DAYS = 14
#: Standard errors of the recent mean the change must reach (six measures, every day).
Z = 3.5
#: Baseline days dropped at each end before its mean and spread.
TRIM = 2


@dataclass(frozen=True)
class Measure:
    trend: WellbeingTrend
    value: Callable[[DailySummary], float | None]
    rising: bool  # the worrying direction
    floor: Callable[[float], float]  # the smallest change that matters, from the baseline
    #: The least spread assumed: a very regular life (MAD 0) or whole counts must not make
    #: every small change look like many deviations.
    noise: float
    unit: tuple[str, str]  # zh, en
    what: tuple[str, str]


def _activity(day: DailySummary) -> float:
    return float(sum(day.activity.values()))


MEASURES: tuple[Measure, ...] = (
    Measure(
        WellbeingTrend.NIGHT_BATHROOM_UP,
        lambda d: float(d.night_bathroom),
        True,
        lambda _base: 1.0,
        0.5,
        ("次", "visits"),
        ("夜间如厕", "Night-time bathroom visits"),
    ),
    Measure(
        WellbeingTrend.ACTIVITY_DOWN,
        _activity,
        False,
        lambda base: max(0.25 * base, 10.0),
        6.0,
        ("次", "signs of movement"),
        ("日间活动", "Activity at home"),
    ),
    Measure(
        WellbeingTrend.WAKE_LATER,
        lambda d: d.wake_h,
        True,
        lambda _base: 0.75,
        0.25,
        ("点", "h"),
        ("起床时间", "Getting up"),
    ),
    Measure(
        WellbeingTrend.MEALS_SKIPPED,
        lambda d: float(d.meals),
        False,
        lambda _base: 1.0,
        0.5,
        ("餐", "meals"),
        ("有做饭/进厨房的餐次", "Meal times with kitchen use"),
    ),
    Measure(
        WellbeingTrend.OUTINGS_DOWN,
        lambda d: float(d.outings),
        False,
        lambda base: max(1.0, 0.6 * base),
        0.75,  # outings vary most from day to day: only near-stopping counts
        ("次", "outings"),
        ("外出", "Outings"),
    ),
    Measure(
        WellbeingTrend.IN_BED_UP,
        lambda d: d.in_bed_h,
        True,
        lambda _base: 1.5,
        0.4,
        ("小时", "h"),
        ("卧床时间", "Time in bed"),
    ),
)


@dataclass(frozen=True)
class Finding:
    """A trend worth a visit, with the numbers that show it."""

    trend: WellbeingTrend
    recent_mean: float
    baseline_mean: float
    baseline_sd: float
    slope_per_week: float
    days: list[str]
    values: list[float | None]
    zh: str
    en: str


def usable(day: DailySummary) -> bool:
    """A day that says something about the person (not away, the home saw them)."""
    return not day.away and _activity(day) > 0


def find_trends(days: Sequence[DailySummary]) -> list[Finding]:
    """Trends in the last ``RECENT_DAYS + BASELINE_DAYS`` days (oldest first)."""
    window = [d for d in days[-(RECENT_DAYS + BASELINE_DAYS) :] if usable(d)]
    if not window:
        return []
    last = window[-1].day.toordinal()
    recent = [d for d in window if last - d.day.toordinal() < RECENT_DAYS]
    baseline = [d for d in window if last - d.day.toordinal() >= RECENT_DAYS]
    return [
        finding
        for measure in MEASURES
        if (finding := _judge(measure, window, recent, baseline)) is not None
    ]


def _judge(
    measure: Measure,
    window: list[DailySummary],
    recent: list[DailySummary],
    baseline: list[DailySummary],
) -> Finding | None:
    now = sorted(v for d in recent if (v := measure.value(d)) is not None)
    before = sorted(v for d in baseline if (v := measure.value(d)) is not None)
    if len(now) < MIN_RECENT or len(before) < MIN_BASELINE:
        return None
    # One bad night (or a day out) in the recent days is not a trend: the day that looks
    # worst is left out, and the baseline loses its extremes on both sides.
    now = now[:-1] if measure.rising else now[1:]
    before = before[TRIM:-TRIM]
    base = statistics.fmean(before)
    spread = max(statistics.stdev(before), measure.noise)
    current = statistics.fmean(now)
    change = current - base if measure.rising else base - current
    if change < measure.floor(base) or change < Z * spread / math.sqrt(len(now)):
        return None
    tail = [
        (d.day.toordinal(), v) for d in window[-SLOPE_DAYS:] if (v := measure.value(d)) is not None
    ]
    slope = theil_sen([x for x, _ in tail], [v for _, v in tail]) * 7
    if (slope <= 0) if measure.rising else (slope >= 0):
        return None
    zh, en = _sentences(measure, current, base)
    return Finding(
        trend=measure.trend,
        recent_mean=round(current, 2),
        baseline_mean=round(base, 2),
        baseline_sd=round(spread, 2),
        slope_per_week=round(slope, 2),
        days=[d.day.isoformat() for d in window],
        values=[_round(measure.value(d)) for d in window],
        zh=zh,
        en=en,
    )


def theil_sen(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The median of the slopes between every two points: one odd day moves it little,
    unlike a least-squares line (0 when no two points differ in ``x``)."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    first, second = np.triu_indices(len(x), 1)
    dx = x[second] - x[first]
    apart = dx != 0
    if not apart.any():
        return 0.0
    return float(np.median((y[second] - y[first])[apart] / dx[apart]))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _clock(hours: float) -> str:
    minutes = round(hours * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _sentences(measure: Measure, current: float, base: float) -> tuple[str, str]:
    what_zh, what_en = measure.what
    if measure.trend is WellbeingTrend.WAKE_LATER:
        return (
            f"{what_zh}推迟：近 5 天多在 {_clock(current)} 左右，此前 3 周约 {_clock(base)}。",
            f"{what_en} later: around {_clock(current)} in the last 5 days, "
            f"{_clock(base)} in the 3 weeks before.",
        )
    unit_zh, unit_en = measure.unit
    more = measure.rising
    return (
        f"{what_zh}{'增多' if more else '减少'}：近 5 天每天约 {current:g} {unit_zh}，"
        f"此前 3 周约 {base:g} {unit_zh}。",
        f"{what_en} {'up' if more else 'down'}: about {current:g} {unit_en} a day in the last "
        f"5 days, {base:g} in the 3 weeks before.",
    )

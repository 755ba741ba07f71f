"""Slow decline in a home's days, found robustly: the last days against the weeks before.

Each measure compares the median of the last 5 days with the median and MAD (median
absolute deviation) of the 21 days before; it counts as a trend only when the change is
both large for this person (``Z`` robust deviations) and large in absolute terms (a floor:
one more toilet visit a night, half an hour later rising), and the Theil–Sen slope of the
last two weeks points the same way. Medians and MAD shrug off a bad night or a day out;
the floor keeps a person with a very regular life from being flagged for ten minutes.
Days in holiday mode and days the home saw nothing are left out. Pure functions: alerting
calls them after storing each day, the evaluation and tests call them directly.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scipy.stats import theilslopes

from eldercare.models import DailySummary, WellbeingTrend

RECENT_DAYS = 5
BASELINE_DAYS = 21
#: Fewer valid days than these and the comparison is not made (a new home, a long stay away).
MIN_RECENT, MIN_BASELINE = 4, 14
SLOPE_DAYS = 14
#: Robust deviations (MAD × 1.4826 ≈ one standard deviation of normal noise).
Z = 3.0
MAD_SCALE = 1.4826


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
    recent_median: float
    baseline_median: float
    baseline_mad: float
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
    now = [v for d in recent if (v := measure.value(d)) is not None]
    before = [v for d in baseline if (v := measure.value(d)) is not None]
    if len(now) < MIN_RECENT or len(before) < MIN_BASELINE:
        return None
    base = statistics.median(before)
    mad = max(statistics.median(abs(v - base) for v in before) * MAD_SCALE, measure.noise)
    current = statistics.median(now)
    change = current - base if measure.rising else base - current
    floor = measure.floor(base)
    if change < floor or change < Z * mad:
        return None
    tail = [
        (d.day.toordinal(), v) for d in window[-SLOPE_DAYS:] if (v := measure.value(d)) is not None
    ]
    slope = float(theilslopes([v for _, v in tail], [x for x, _ in tail]).slope) * 7
    if (slope <= 0) if measure.rising else (slope >= 0):
        return None
    zh, en = _sentences(measure, current, base)
    return Finding(
        trend=measure.trend,
        recent_median=round(current, 2),
        baseline_median=round(base, 2),
        baseline_mad=round(mad, 2),
        slope_per_week=round(slope, 2),
        days=[d.day.isoformat() for d in window],
        values=[_round(measure.value(d)) for d in window],
        zh=zh,
        en=en,
    )


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

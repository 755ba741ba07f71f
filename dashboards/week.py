"""The family's week in plain words: "slept about 7 h most nights; up twice at night, more
than usual", from the daily summaries alerting stores.

Typical values, not averages: the median night (one bad night is not "her week"), rounded
the way a person would say it (half hours of sleep, whole visits, a quarter hour for the
wake-up). "More than usual" compares this week with the three weeks before, and only for
a difference a daughter would notice (about one visit a night, half an hour later). Pure:
the page hands in the days; each line is a catalogue key and what fills it, so the same
week reads in Chinese and English.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from eldercare.models import DailySummary

WEEK, USUAL = 7, 21
#: Fewer days than these in the week (a new home, time away) and the page says so instead.
MIN_WEEK_DAYS = 4
MIN_USUAL_DAYS = 10
#: Night toilet visits a night / hours of wake-up that make "more / later than usual".
MORE_VISITS = 0.75
LATER_H = 0.5


@dataclass(frozen=True)
class Line:
    """One sentence: a catalogue key, its numbers, and an optional ending (also a key)."""

    key: str
    args: dict[str, str | int | float] = field(default_factory=dict)
    tail: str | None = None


def _usable(day: DailySummary) -> bool:
    return not day.away and sum(day.activity.values()) > 0


def _clock(hours: float) -> str:
    minutes = round(hours * 4) * 15 % (24 * 60)  # to the quarter hour
    return f"{minutes // 60}:{minutes % 60:02d}"


def week_lines(days: Sequence[DailySummary]) -> list[Line]:
    """The last ``WEEK`` days (oldest first, the newest is yesterday) in a few sentences;
    empty when the week has too few days to say anything true."""
    if not days:
        return []
    last = days[-1].day.toordinal()
    week = [d for d in days if last - d.day.toordinal() < WEEK and _usable(d)]
    usual = [d for d in days if WEEK <= last - d.day.toordinal() < WEEK + USUAL and _usable(d)]
    if len(week) < MIN_WEEK_DAYS:
        return []
    compare = len(usual) >= MIN_USUAL_DAYS
    lines = []
    slept = [d.in_bed_h for d in week if d.in_bed_h > 0]
    if slept:
        lines.append(Line("week.sleep", {"h": round(statistics.median(slept) * 2) / 2}))
    visits = statistics.median(d.night_bathroom for d in week)
    tail = None
    if compare:
        change = statistics.fmean(d.night_bathroom for d in week) - statistics.fmean(
            d.night_bathroom for d in usual
        )
        if change >= MORE_VISITS:
            tail = "week.more_than_usual"
        elif change <= -MORE_VISITS:
            tail = "week.fewer_than_usual"
    if round(visits) == 0:
        lines.append(Line("week.night_up_none", tail=tail))
    else:
        lines.append(Line("week.night_up", {"n": round(visits)}, tail))
    wakes = [d.wake_h for d in week if d.wake_h is not None]
    if wakes:
        wake = statistics.median(wakes)
        usual_wakes = [d.wake_h for d in usual if d.wake_h is not None]
        later = compare and usual_wakes and wake - statistics.median(usual_wakes) >= LATER_H
        lines.append(
            Line("week.wake", {"time": _clock(wake)}, "week.later_than_usual" if later else None)
        )
    lines.append(Line("week.meals", {"n": round(statistics.median(d.meals for d in week))}))
    lines.append(Line("week.outings", {"n": sum(d.outings for d in week)}))
    return lines

"""A recorded home through the detector's daily summaries, checked against its own labels.

``python scripts/wellbeing_replay.py [RECORDING] [--svg docs/wellbeing-casas.svg]``

The recording (``DATE TIME SENSOR LOCATION STATE ACTIVITY`` lines, CASAS style; default
``$ELDERCARE_SHARED_DATA/casas-al-smarthome``) is replayed through the real inactivity rule
and ``WellbeingRule`` exactly as the detector runs them (event by event, a tick a minute),
so the days are the ones alerting would store. The detector never reads the activity
column; this script does, afterwards, to say whether the days are plausible: the labelled
sleep, night toilet trips, outings and meals of the same days, side by side. It prints a
Markdown table per day and writes a chart (plain SVG, nothing to install) for the docs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from detector.activity.rule import InactivitySettings
from detector.wellbeing import WellbeingRule
from eldercare.logs import configure_logging
from eldercare.models import DailySummary
from evaluation.activity.replay import (
    TICK,
    Replayer,
    build_directory,
    load_recording,
    to_events,
)

SHARED_HOME = "casas-al-smarthome"
#: Labelled toilet trips closer than this are one trip (as the summary's ``BATH_VISIT_GAP``).
TRIP_GAP = timedelta(minutes=10)
MEAL_LABELS = ("Breakfast", "Lunch", "Dinner")


def summaries(recording: Path) -> list[DailySummary]:
    """The recording's days as the detector emits them at each local midnight (the first
    day is partial, from the recording's first event; the last, unfinished one is not
    emitted)."""
    readings = load_recording(recording)
    infos = build_directory(readings, {})
    events = to_events(readings, infos)
    inactivity = Replayer(events, infos, InactivitySettings()).new_rule()
    wellbeing = WellbeingRule(inactivity)
    days: list[DailySummary] = []
    now, index = events[0].ts, 0
    while now < events[-1].ts:
        now += TICK
        while index < len(events) and events[index].ts <= now:
            event = events[index]
            inactivity.on_event(event, event.ts)
            days += wellbeing.on_event(event, event.ts).summaries
            index += 1
        inactivity.on_tick(now)
        days += wellbeing.on_tick(now).summaries
    return days


@dataclass
class LabelledDay:
    """What the recording's activity labels say about one day (its night: the one that
    ended that morning, as in a summary)."""

    onset: datetime | None = None
    wake: datetime | None = None
    toilet_trips: int = 0
    outings: int = 0
    out: timedelta = field(default_factory=timedelta)
    meals: set[str] = field(default_factory=set)


def labelled(lines: Iterable[str]) -> dict[date, LabelledDay]:
    """Per day from the labels: sleep onset (the first ``Sleep`` after 18:00), wake-up (the
    last ``Wake_Up`` between 04:00 and noon), ``Bed_Toilet_Transition`` trips in between,
    ``Leave_Home`` … ``Enter_Home`` outings, and meal times with a cook or eat label."""
    days: dict[date, LabelledDay] = {}
    last_trip: datetime | None = None
    left: datetime | None = None
    previous = ""
    for line in lines:
        parts = line.split()
        if len(parts) < 6:
            continue
        at = datetime.fromisoformat(f"{parts[0]}T{parts[1]}")
        label = parts[5]
        night = days.setdefault((at + timedelta(hours=12)).date(), LabelledDay())
        today = days.setdefault(at.date(), LabelledDay())
        if label == "Sleep" and night.onset is None and (at.hour >= 18 or at.hour < 4):
            night.onset = at
        if label == "Wake_Up" and previous != "Wake_Up" and 4 <= at.hour < 12:
            today.wake = at  # the last one: an earlier one was a trip to the toilet
        if label == "Bed_Toilet_Transition":
            if last_trip is None or at - last_trip > TRIP_GAP:
                night.toilet_trips += 1
            last_trip = at
        if label == "Leave_Home" and previous != "Leave_Home":
            today.outings += 1
            left = at
        if label == "Enter_Home" and left is not None:
            days.setdefault(left.date(), LabelledDay()).out += at - left
            left = None
        for meal in MEAL_LABELS:
            if label in (f"Cook_{meal}", f"Eat_{meal}"):
                today.meals.add(meal)
        previous = label
    return days


def _clock(hours: float | None) -> str:
    if hours is None:
        return "–"
    minutes = round(hours * 60) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hours_of(at: datetime | None, day: date, evening: bool) -> float | None:
    """A labelled time as the summary writes it: from midnight of ``day`` (an onset the
    evening before as 23.5, after midnight as 24.5)."""
    if at is None:
        return None
    hours = (at - datetime.combine(day, datetime.min.time())).total_seconds() / 3600
    return hours + 24 if evening else hours


def table(days: Sequence[DailySummary], labels: dict[date, LabelledDay]) -> str:
    """One row per day: the detector's summary, the labels' figure after the slash."""
    rows = [
        "| day | sleep onset | wake-up | in bed h | night toilet | out h | outings | meals |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for day in days:
        truth = labels.get(day.day, LabelledDay())
        rows.append(
            f"| {day.day} | {_clock(day.sleep_onset_h)} / {_clock(_onset_h(truth, day.day))} "
            f"| {_clock(day.wake_h)} / {_clock(_hours_of(truth.wake, day.day, False))} "
            f"| {day.in_bed_h:.1f} | {day.night_bathroom} / {truth.toilet_trips} "
            f"| {day.out_h:.1f} / {truth.out.total_seconds() / 3600:.1f} "
            f"| {day.outings} / {truth.outings} | {day.meals} / {len(truth.meals)} |"
        )
    return "\n".join(rows)


def _onset_h(truth: LabelledDay, day: date) -> float | None:
    return _hours_of(truth.onset, day - timedelta(days=1), False)


def agreement(days: Sequence[DailySummary], labels: dict[date, LabelledDay]) -> dict[str, float]:
    """Median absolute differences, detector vs labels, over the days both have."""

    def median_gap(pairs: Iterable[tuple[float | None, float | None]]) -> float:
        gaps = [abs(a - b) for a, b in pairs if a is not None and b is not None]
        return round(statistics.median(gaps), 2) if gaps else float("nan")

    truth = [(d, labels.get(d.day, LabelledDay())) for d in days]
    return {
        "sleep_onset_h": median_gap((d.sleep_onset_h, _onset_h(t, d.day)) for d, t in truth),
        "wake_h": median_gap((d.wake_h, _hours_of(t.wake, d.day, False)) for d, t in truth),
        "night_toilet": median_gap((d.night_bathroom, t.toilet_trips) for d, t in truth),
        "out_h": median_gap((d.out_h, t.out.total_seconds() / 3600) for d, t in truth),
        "outings": median_gap((d.outings, t.outings) for d, t in truth),
        "meals": median_gap((d.meals, len(t.meals)) for d, t in truth),
    }


#: Chart panels: title, the summary's field, the axis (low, high).
PANELS = (
    ("Sleep onset (blue) and wake-up + 24 h (orange), hours", "sleep", (20.0, 34.0)),
    ("Time in bed (h)", "in_bed_h", (0.0, 12.0)),
    ("Night toilet visits", "night_bathroom", (0.0, 6.0)),
    ("Time out of home (h)", "out_h", (0.0, 10.0)),
    ("Meal times with kitchen use", "meals", (0.0, 3.0)),
)
W, PANEL_H, PLOT_H, LEFT, TOP = 760, 110, 76, 56, 24


def _labelled_value(field: str, truth: LabelledDay) -> float | None:
    if field == "night_bathroom":
        return truth.toilet_trips
    if field == "out_h":
        return truth.out.total_seconds() / 3600
    if field == "meals":
        return len(truth.meals)
    return None


def _panel(number: int, days: Sequence[DailySummary], labels: dict[date, LabelledDay]) -> list[str]:
    """One panel: a bar (or dots) per day from the summary, a dark tick from the labels."""
    title, field, (low, high) = PANELS[number]
    top = TOP + number * PANEL_H + 18
    step = (W - LEFT - 16) / max(1, len(days))

    def y(value: float) -> float:
        return top + PLOT_H - (min(max(value, low), high) - low) / (high - low) * PLOT_H

    parts = [
        f'<text x="{LEFT}" y="{top - 4}">{title}</text>',
        f'<line x1="{LEFT}" y1="{top + PLOT_H}" x2="{W - 16}" y2="{top + PLOT_H}" stroke="#999"/>',
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
    for index, day in enumerate(days):
        x = LEFT + index * step + step / 2
        if field == "sleep":
            wake = None if day.wake_h is None else day.wake_h + 24
            for value, colour in ((day.sleep_onset_h, "#3465a4"), (wake, "#f57900")):
                if value is not None:
                    parts.append(
                        f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="3" fill="{colour}"/>'
                    )
            continue
        value = float(getattr(day, field))
        parts.append(
            f'<rect x="{x - step * 0.35:.1f}" y="{y(value):.1f}" width="{step * 0.7:.1f}" '
            f'height="{top + PLOT_H - y(value):.1f}" fill="#729fcf"/>'
        )
        known = _labelled_value(field, labels.get(day.day, LabelledDay()))
        if known is not None:
            parts.append(
                f'<line x1="{x - step * 0.4:.1f}" x2="{x + step * 0.4:.1f}" y1="{y(known):.1f}" '
                f'y2="{y(known):.1f}" stroke="#2e3436" stroke-width="2"/>'
            )
    return parts


def svg(days: Sequence[DailySummary], labels: dict[date, LabelledDay], title: str) -> str:
    """Five small panels, one bar per day: the detector's value as a bar, the labels' as a
    dark tick across it, so a reader sees at once where they agree."""
    bottom = TOP + len(PANELS) * PANEL_H + 8
    step = (W - LEFT - 16) / max(1, len(days))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{bottom + 24}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{LEFT}" y="15" font-size="13" font-weight="bold">{title}</text>',
    ]
    for number in range(len(PANELS)):
        parts += _panel(number, days, labels)
    parts += [
        f'<text x="{LEFT + index * step + step / 2:.1f}" y="{bottom}" text-anchor="middle">'
        f"{day.day:%m-%d}</text>"
        for index, day in enumerate(days)
        if index % 5 == 0
    ]
    parts.append(
        f'<text x="{LEFT}" y="{bottom + 16}">bars and dots: the detector\'s daily summaries; '
        "dark ticks: the recording's own activity labels</text>"
    )
    return "\n".join([*parts, "</svg>"]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = Path(os.environ.get("ELDERCARE_SHARED_DATA", "../shared/data")) / SHARED_HOME
    parser.add_argument("recording", nargs="?", type=Path, default=shared)
    parser.add_argument("--svg", type=Path, help="write the chart here")
    args = parser.parse_args(argv)
    configure_logging("WARNING")  # a line per summary would drown the table
    days = summaries(args.recording)
    path = args.recording / "data" if args.recording.is_dir() else args.recording
    with path.open(encoding="utf-8", errors="replace") as handle:
        labels = labelled(handle)
    print(table(days, labels))
    print()
    print("median |detector - labels|:", agreement(days, labels))
    if args.svg is not None:
        args.svg.write_text(svg(days, labels, f"{args.recording.name}: daily summaries"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

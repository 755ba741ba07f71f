"""Many homes through the replay: a per-home table and pooled figures, real and simulated apart.

One home is no measuring stick: the detector was tuned on the CASAS home and raised tens of
false alarms per 100 home-days on homes it had never seen. So every figure is reported per
home and pooled over a group (real recordings, simulated development homes), never mixed.
Pooled false alarms are all alarms over all scored days; pooled delays are over all
collapse copies of the group.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from detector.activity.model import BLOCK_H, BLOCKS, ModelSettings
from detector.activity.prior import BATH_INSTANT, COLUMNS, HomeLimits, QuietPrior, combine
from detector.activity.rule import InactivitySettings
from detector.activity.sensors import PLACE_COUNT, Place
from evaluation.activity.replay import (
    HOME,
    Reading,
    Replayer,
    build_directory,
    evaluate,
    load_map,
    load_recording,
    to_events,
)

#: A recording shorter than twice the learning days learns for half of it instead, so a
#: 7-day home is scored at all (the model has a prior for its first days).
MIN_SCORED_SHARE = 0.5


@dataclass(frozen=True)
class HomeSource:
    name: str
    group: str  # REAL, TWO_RESIDENT or SIMULATED
    load: Callable[[], list[Reading]]
    map_file: Path | None = None


#: Groups of homes, never pooled together. A home of two (``SOURCE.txt`` says "Residents:
#: TWO") is not the person living alone the detector is for, nor the population of the prior.
REAL, TWO_RESIDENT, SIMULATED = "real", "two-resident", "simulated"
_RESIDENTS = re.compile(r"Residents:\s*(\d+|one|two|three|four)", re.IGNORECASE)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4}


def group_of(path: Path) -> str:
    """``REAL``, or ``TWO_RESIDENT`` where the recording's ``SOURCE.txt`` says so."""
    source = path / "SOURCE.txt" if path.is_dir() else path.with_name("SOURCE.txt")
    found = _RESIDENTS.search(source.read_text()) if source.is_file() else None
    if found is None:
        return REAL
    word = found.group(1).lower()
    return TWO_RESIDENT if int(_NUMBERS.get(word, word)) > 1 else REAL


def is_recording(path: Path) -> bool:
    if path.is_file():
        return True
    return (path / "data").is_file() or any(
        p.suffix in {".txt", ".csv", ".dat"} and p.is_file() for p in path.iterdir()
    )


def discover(paths: Iterable[Path], map_file: Path | None = None) -> list[HomeSource]:
    """Homes in ``paths``: each a recording, or a folder whose sub-folders (at any depth)
    are recordings. A ``sensors.yaml`` beside a recording is its map file.

    A recording reached twice (a folder and one of its homes both given) is one home: under
    two names it would be scored twice and, leave-one-home-out, sit in its own prior (the
    prior leaves out by name)."""
    found: list[HomeSource] = []
    seen: set[Path] = set()

    def walk(path: Path, label: str) -> None:
        if is_recording(path):
            if path.resolve() in seen:
                return
            seen.add(path.resolve())
            own = path / "sensors.yaml" if path.is_dir() else None
            mapping = map_file or (own if own is not None and own.is_file() else None)
            load = partial(load_recording, path)
            found.append(HomeSource(label, group_of(path), load, mapping))
            return
        for child in sorted(p for p in path.iterdir() if p.is_dir()):
            walk(child, f"{label}/{child.name}" if label else child.name)

    for path in paths:
        walk(path, path.name)
    return found


def simulated(count: int, days: int, seed: int) -> list[HomeSource]:
    """The simulated development homes (imported here: the detector runs without them)."""
    from evaluation.activity.adl_homes import describe, simulate_home

    return [
        HomeSource(
            describe(index, seed),
            SIMULATED,
            lambda index=index: simulate_home(index, days, seed).readings,
        )
        for index in range(count)
    ]


Cuts = list[tuple[int, float | None]]


def _events(source: HomeSource) -> tuple[list[Any], dict[str, Any]]:
    readings = source.load()
    if not readings:
        raise ValueError(f"no readings in {source.name}")
    infos = build_directory(readings, load_map(source.map_file))
    return to_events(readings, infos), infos


def learned_limits(source: HomeSource) -> HomeLimits:
    """The limit per context a home learns over its whole recording, where it learned any
    (no alarms needed: what is learned does not depend on the limits), for a prior."""
    events, infos = _events(source)
    rule = Replayer(events, infos, InactivitySettings()).new_rule()
    for event in events:
        rule.on_event(event, event.ts)
    model, settings = rule.homes[HOME].model, rule.settings.model
    limit = np.full((BLOCKS, COLUMNS), np.nan, dtype=np.float32)
    for block, place in np.ndindex(BLOCKS, PLACE_COUNT):
        own = model.own_limit_h(block * BLOCK_H + BLOCK_H / 2, Place(place), settings)
        if own is not None:
            limit[block, place] = min(own, settings.cap_h)
    if not any(info.place is Place.BATHROOM and info.presence for info in infos.values()):
        # A bathroom known only by switches has the prior's own column (``BATH_INSTANT``).
        limit[:, [Place.BATHROOM, BATH_INSTANT]] = limit[:, [BATH_INSTANT, Place.BATHROOM]]
    return HomeLimits(source.name, source.group, limit)


def population_prior(homes: list[HomeLimits], leave_out: str | None = None) -> QuietPrior:
    """The prior from ``homes``, without ``leave_out`` (leave-one-home-out scoring) and
    without homes of two, whose quiet is shortened by the other person's life."""
    return combine([h for h in homes if h.name != leave_out and h.group != TWO_RESIDENT])


def score_home(
    source: HomeSource,
    *,
    learn_days: float,
    collapses: int,
    seed: int,
    feedback: bool = False,
    prior: QuietPrior | None = None,
) -> tuple[dict[str, Any], Cuts]:
    """One home's row of the table, and its collapse copies as (local hour of the cut, delay).

    ``prior``: the population prior to score with (leave-one-home-out: built without this
    home); the shipped one otherwise."""
    events, infos = _events(source)
    days = (events[-1].ts - events[0].ts).total_seconds() / 86400
    learn = min(learn_days, days * MIN_SCORED_SHARE)
    settings = InactivitySettings(model=ModelSettings(prior=prior)) if prior else None
    result = evaluate(
        events,
        infos,
        learn_days=learn,
        collapses=collapses,
        seed=seed,
        feedback=feedback,
        settings=settings,
    )
    row = {"home": source.name, "group": source.group, **result.summary()}
    return row, [(cut.hour, delay) for cut, delay in result.delays_h]


def pooled(rows: list[dict[str, Any]], cuts: Cuts) -> dict[str, Any]:
    """One group's figures over all its homes and all their collapse copies."""
    scored = sum(r["scored_days"] for r in rows)
    alarms = sum(r["false_alarms"] for r in rows)
    out: dict[str, Any] = {
        "homes": len(rows),
        "scored_days": round(scored, 2),
        "false_alarms": alarms,
        "repeat_false_alarms": sum(r["repeat_false_alarms"] for r in rows),
        "false_alarms_per_100_days": round(100 * alarms / scored, 2) if scored else None,
        "worst_home_fa_per_100_days": max(
            (r["false_alarms_per_100_days"] for r in rows), default=None
        ),
    }
    if cuts:
        within = sum(1 for _, d in cuts if d is not None and d <= 12)
        day = [d for h, d in cuts if 8 <= h < 22 and d is not None]
        night = [d for h, d in cuts if not 8 <= h < 22 and d is not None]
        out.update(
            collapses=len(cuts),
            detected_within_12h_pct=round(100 * within / len(cuts), 1),
            cut_while_alerted=sum(
                (r.get("collapses") or {}).get("cut_while_alerted", 0) for r in rows
            ),
            median_day_h=round(statistics.median(day), 2) if day else None,
            median_night_h=round(statistics.median(night), 2) if night else None,
        )
    return out


def table(rows: list[dict[str, Any]], pools: dict[str, dict[str, Any]]) -> str:
    """Markdown: one line per home, then each group's pooled line."""
    lines = [
        "| group | home | scored days | FA / 100 d | alarms | caught ≤ 12 h "
        "| median day / night (h) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row.get("collapses") or {}
        caught = _caught(c) if c else "–"
        delays = f"{c['day_08_22']['median_h']} / {c['night']['median_h']}" if c else "–"
        kinds = ", ".join(f"{k} {v}" for k, v in row["false_alarm_kinds"].items()) or "–"
        lines.append(
            f"| {row['group']} | {row['home']} | {row['scored_days']} | "
            f"{row['false_alarms_per_100_days']} | {kinds} | {caught} | {delays} |"
        )
    for group, pool in pools.items():
        caught = _caught(pool) if "collapses" in pool else "–"
        delays = (
            f"{pool['median_day_h']} / {pool['median_night_h']}" if "collapses" in pool else "–"
        )
        lines.append(
            f"| **{group}, pooled** | {pool['homes']} homes "
            f"(worst {pool['worst_home_fa_per_100_days']}) "
            f"| {pool['scored_days']} | **{pool['false_alarms_per_100_days']}** | "
            f"{pool['false_alarms']} | {caught} | {delays} |"
        )
    return "\n".join(lines)


def _caught(figures: dict[str, Any]) -> str:
    """The share caught, and how many copies were cut inside a silence already alarmed."""
    alerted = figures.get("cut_while_alerted", 0)
    note = f" ({alerted} cut while alerted)" if alerted else ""
    return f"{figures['detected_within_12h_pct']} %{note}"

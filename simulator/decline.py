"""Slow-decline scenarios: a resident whose routine degrades over weeks (illness onset).

Unlike an incident (``scenarios.py``), a decline is judged on wellbeing notices, not
alerts, and over many seeded runs: the home lives normally for ``onset_day`` days, then
the illness sets in — a first change at once, growing to its full size over ``ramp`` days:
more toilet visits at night, meals skipped (no cooking, resting instead), later rising.
A scenario with no effects is a stable resident, who must get (almost) no notice.
Files live in ``scenarios/decline/*.yaml``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field

from eldercare.models import WellbeingTrend
from simulator.layout import Room
from simulator.life import stable_seed
from simulator.routine import DAY_S, Act, Segment, add_toilet_visits, poisson
from simulator.scenarios import Seconds, _Strict
from simulator.script import HomeScript, Rewrite

DECLINE_DIR = Path(__file__).with_name("scenarios") / "decline"
#: Share of the full effect on the first day of the illness.
FIRST_DAY_SHARE = 0.4


class Effects(_Strict):
    """The decline at its full size."""

    night_toilet: float = Field(0, ge=0, description="extra toilet visits a night (mean)")
    later_rising: Seconds = 0
    meals_skipped: float = Field(0, ge=0, le=1, description="share of meals not cooked")

    @property
    def none(self) -> bool:
        return not (self.night_toilet or self.later_rising or self.meals_skipped)


class DeclineScenario(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,40}$")]
    description: str
    profile: str = "typical"
    onset_day: int = Field(28, ge=14, description="normal days before the illness sets in")
    ramp: Seconds = Field(14 * DAY_S, description="time to the full effect")
    observe: Seconds = Field(14 * DAY_S, description="how long after onset the home is watched")
    effects: Effects = Effects()
    expect: list[WellbeingTrend] = Field(default_factory=list, description="notices, any one")
    within: Seconds = Field(7 * DAY_S, description="after onset")

    def home_id(self, run: int) -> str:
        return f"wb-{self.name}-{run}"[:64]

    def script(self, onset: float, seed: int) -> HomeScript:
        return HomeScript(rewrites=[_decline(self, onset, seed)])


def _decline(scenario: DeclineScenario, onset: float, seed: int) -> Rewrite:
    effects = scenario.effects

    def rewrite(segments: list[Segment], start: float, end: float) -> list[Segment]:
        if effects.none or end <= onset:
            return segments
        share = FIRST_DAY_SHARE + (1 - FIRST_DAY_SHARE) * min(1.0, (start - onset) / scenario.ramp)
        rng = random.Random(stable_seed(seed, scenario.name, start))
        if start >= onset:
            segments = _sleep_in(segments, start, share * effects.later_rising)
        segments = _skip_meals(segments, rng, share * effects.meals_skipped)
        night = _night(segments)
        if night is not None and night[0] >= onset:
            visits = poisson(rng, share * effects.night_toilet)
            segments = add_toilet_visits(
                segments, rng, night[0] + 1800, night[1] - 1800, visits, 300
            )
        return segments

    return rewrite


def _night(segments: list[Segment]) -> tuple[float, float] | None:
    """Bedtime to wake-up of the stretch's closing night. The routine's own toilet visits
    cut the night's sleep into pieces: the whole run of sleep and toilet at the end is the
    night (its last piece alone would be an hour or two, where extra visits crowd together
    and the sensor sees them as one)."""
    start = None
    for segment in reversed(segments):
        if segment.act not in (Act.SLEEP, Act.TOILET):
            break
        start = segment.start
    if start is None:
        return None
    return start, segments[-1].end


def _sleep_in(segments: list[Segment], start: float, delay: float) -> list[Segment]:
    """Still in bed for ``delay`` after the usual wake-up (the stretch starts at it)."""
    if delay <= 0:
        return segments
    until = start + delay
    kept = [replace(s, start=max(s.start, until)) for s in segments if s.end > until]
    return [Segment(start, until, Room.BEDROOM, Act.SLEEP), *kept]


def _skip_meals(segments: list[Segment], rng: random.Random, share: float) -> list[Segment]:
    """A skipped meal: no cooking or eating in the kitchen, resting in the living room."""
    result: list[Segment] = []
    skipping = False
    for segment in segments:
        if segment.act is Act.COOK:
            skipping = rng.random() < share
        elif segment.act is not Act.EAT:
            skipping = False
        if skipping:
            segment = replace(segment, room=Room.LIVING_ROOM, act=Act.REST)
        result.append(segment)
    return result


@cache
def load_declines(directory: Path = DECLINE_DIR) -> tuple[DeclineScenario, ...]:
    """Every ``*.yaml`` in the folder, sorted by name; a broken file fails loudly."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            found.append(DeclineScenario.model_validate(yaml.safe_load(path.read_text("utf-8"))))
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from error
    return tuple(found)

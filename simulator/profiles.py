"""Resident profiles: how one kind of person lives, as YAML a care worker could read.

A profile describes a population (``typical``, ``frail``…); each simulated home draws its
own resident from it (``Resident``), so two homes with the same profile still differ the
way two neighbours do: one gets up at 6:30, the other at 7:20, every day give or take.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time
from functools import cache
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PROFILE_DIR = Path(__file__).with_name("profiles")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def minutes(clock: time) -> float:
    return clock.hour * 60 + clock.minute + clock.second / 60


DAY_MIN = 24 * 60.0
#: The shortest usual night a profile may describe (bedtime mean to wake mean).
MIN_NIGHT_MIN = 4 * 60.0
#: The longest usual night in bed a profile or a resident may have: more than 9 h of sleep
#: is "not recommended" for people over 65 (National Sleep Foundation, Hirshkowitz et al.
#: 2015), and at the 80–85 % sleep efficiency of that age 9 h asleep are 10.5–11.25 h in
#: bed. Without it, a home's earlier bedtime (up to 75 min, ``adl_homes``) and a person
#: drawn 2 sd early to bed and 2 sd late up made a resident in bed 12 h every night.
MAX_NIGHT_MIN = 11 * 60.0


class TimeOfDay(_Section):
    """A habit's time: the population mean, how much people differ from each other
    (``person_sd_min``) and how much one person varies from day to day (``day_sd_min``)."""

    mean: time
    person_sd_min: float = Field(20.0, ge=0)
    day_sd_min: float = Field(20.0, ge=0)


class Activity(_Section):
    """Something done on some days: its time, how long, and how likely on a given day."""

    at: TimeOfDay
    duration_min: float = Field(gt=0)
    duration_sd_min: float = Field(5.0, ge=0)
    probability: float = Field(1.0, ge=0, le=1)
    weekdays: list[int] = Field(
        default_factory=lambda: list(range(7)), description="0 = Monday … 6 = Sunday"
    )


class Meals(_Section):
    breakfast: Activity
    lunch: Activity
    dinner: Activity


class Outing(Activity):
    """Leaving home: shopping, the community canteen (replaces lunch at home), a walk."""

    name: str
    replaces_lunch: bool = False


class Visit(Activity):
    """Someone else in the flat: a carer on weekdays, family at the weekend."""

    name: str
    rooms: list[str] = Field(default_factory=lambda: ["living_room", "kitchen"])


class Mobility(_Section):
    """How fast the resident moves: frail residents walk slower, take longer in the
    bathroom and move less while sitting, which is what makes them hard to watch."""

    walk_s_between_rooms: float = Field(8.0, gt=0, description="hall crossing time")
    step_hz: float = Field(1.8, gt=0, le=4)
    step_g: float = Field(0.3, gt=0, le=2, description="vertical acceleration per step")
    fidget_per_hour: float = Field(6.0, ge=0, description="PIR-visible moves while seated")


class ResidentProfile(_Section):
    name: str
    description: str = ""
    wake: TimeOfDay
    bedtime: TimeOfDay
    night_bathroom_visits: float = Field(1.0, ge=0, description="mean per night (Poisson)")
    day_bathroom_visits: float = Field(4.0, ge=0, description="mean per day (Poisson)")
    bathroom_visit_min: float = Field(6.0, gt=0)
    meals: Meals
    nap: Activity | None = None
    outings: list[Outing] = Field(default_factory=list)
    visits: list[Visit] = Field(default_factory=list)
    mobility: Mobility = Mobility()
    pendant_worn: float = Field(0.95, ge=0, le=1, description="share of days worn while awake")

    @model_validator(mode="after")
    def _night_before_wake(self) -> Self:
        night = minutes(self.wake.mean) + DAY_MIN - self.bedtime_min
        if night < MIN_NIGHT_MIN:
            raise ValueError(
                f"bedtime.mean must leave at least {MIN_NIGHT_MIN / 60:.0f} h of night before "
                "wake.mean (a bedtime after midnight is read as the following night's)"
            )
        if night > MAX_NIGHT_MIN:
            raise ValueError(
                f"bedtime.mean must leave at most {MAX_NIGHT_MIN / 60:.0f} h of night before "
                "wake.mean (a longer usual night in bed is not a life to learn from)"
            )
        return self

    @property
    def bedtime_min(self) -> float:
        """The usual bedtime in minutes after midnight of the day the resident got up: one
        earlier on the clock than the wake-up (00:15) is the following night's (1455), not
        the small hours before that wake-up, which the day plan can only clamp to an
        afternoon bedtime."""
        bedtime = minutes(self.bedtime.mean)
        return bedtime + DAY_MIN if bedtime <= minutes(self.wake.mean) else bedtime

    @classmethod
    def load(cls, path: Path) -> ResidentProfile:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def profile(name_or_path: str) -> ResidentProfile:
    """A bundled profile by name (``typical``) or any YAML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.yaml"
    return ResidentProfile.load(path)


def bundled_profiles() -> list[str]:
    return sorted(path.stem for path in PROFILE_DIR.glob("*.yaml"))


@dataclass(frozen=True, slots=True)
class Resident:
    """One person drawn from a profile: their own habits' means, fixed for the whole run."""

    profile: ResidentProfile
    wake_min: float
    bedtime_min: float
    breakfast_min: float
    lunch_min: float
    dinner_min: float

    @classmethod
    def draw(cls, profile: ResidentProfile, rng: random.Random) -> Resident:
        def personal(habit: TimeOfDay, mean_min: float | None = None) -> float:
            """This person's mean: the profile's (``mean_min`` where the clock alone cannot
            say which day it falls on) moved by how much people differ."""
            mean = minutes(habit.mean) if mean_min is None else mean_min
            return mean + rng.gauss(0, habit.person_sd_min)

        wake = personal(profile.wake)
        # Bedtime and wake-up are drawn apart, so their tails add up; a person whose usual
        # night would be longer than ``MAX_NIGHT_MIN`` stays up until it is not.
        bedtime = max(
            personal(profile.bedtime, profile.bedtime_min), wake + DAY_MIN - MAX_NIGHT_MIN
        )
        return cls(
            profile=profile,
            wake_min=wake,
            bedtime_min=bedtime,
            breakfast_min=personal(profile.meals.breakfast.at),
            lunch_min=personal(profile.meals.lunch.at),
            dinner_min=personal(profile.meals.dinner.at),
        )

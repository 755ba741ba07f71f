"""Per-home expected routines that families ask for: "kitchen activity by 10:00", "out of bed
by 9:00", "front door used at least once a day".

One YAML file per home in ``ELDERCARE_ROUTINES_DIR`` (``<home id>.yaml``), written by the
station with the family::

    wake_by: "09:00"            # overrides the learned wake-up time (tolerance still added)
    expect:
      - {name: 厨房 10 点前有活动, places: [kitchen], by: "10:00"}
      - {name: 每天出门一次, places: [out], by: "23:50"}

The detector reads the folder with the registry every minute, so a change needs no restart,
and a removed file gives the home back its learned defaults. A file that does not validate
is logged and skipped (the home keeps what it had): a typo must not stop the detector.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detector.activity.home_config import Expectation
from detector.activity.rule import InactivityRule
from detector.activity.sensors import Place
from eldercare.logs import get_logger

log = get_logger("detector.routines")

PlaceName = Literal["bedroom", "bathroom", "kitchen", "living", "other", "out", "bed", "chair"]


class ExpectationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    places: list[PlaceName] = Field(min_length=1, description="out = the front door was used")
    by: time = Field(description="local time in the home's time zone")


class RoutineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wake_by: time | None = None
    expect: list[ExpectationSpec] = Field(default_factory=list)

    def expectations(self) -> list[Expectation]:
        return [
            Expectation(e.name, frozenset(Place[p.upper()] for p in e.places), _hours(e.by))
            for e in self.expect
        ]


def load_routines(folder: Path) -> dict[str, RoutineSpec]:
    """Every valid ``<home>.yaml`` in ``folder``; invalid ones are logged and left out."""
    routines: dict[str, RoutineSpec] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            routines[path.stem] = RoutineSpec.model_validate(yaml.safe_load(path.read_text()))
        except (OSError, yaml.YAMLError, ValidationError) as error:
            log.error("routine_invalid", home=path.stem, path=str(path), error=str(error))
    return routines


def apply_routines(
    rule: InactivityRule, routines: dict[str, RoutineSpec], applied: set[str]
) -> None:
    """Set each home's routine on the rule; homes in ``applied`` (set from files before)
    whose file is gone get the defaults back."""
    for home in applied - routines.keys():
        rule.set_routine(home, None, [])
    for home, spec in routines.items():
        rule.set_routine(home, spec.wake_by and _hours(spec.wake_by), spec.expectations())


def _hours(at: time) -> float:
    return at.hour + at.minute / 60

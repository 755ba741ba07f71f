"""What a family or the station set for one home: time zone, "out of bed by 9:00",
"kitchen activity by 10:00", door and night-outing limits. Read by the checks; set through
``InactivityRule.configure`` / ``set_routine`` (from ``routines.py`` and the registry)."""

from __future__ import annotations

from dataclasses import dataclass, field

from detector.activity.sensors import Place


@dataclass(frozen=True)
class Expectation:
    """A family's "kitchen activity by 10:00": activity in ``places`` by ``by_h`` local."""

    name: str
    places: frozenset[Place]
    by_h: float


@dataclass
class HomeConfig:
    tz: str = "Asia/Shanghai"
    #: "Out of bed by 9:00": overrides the learned wake-up hour (tolerance still added).
    wake_by_h: float | None = None
    expectations: list[Expectation] = field(default_factory=list)
    door_open_min: float = 15.0
    wander_min: float = 20.0

"""Learning from the staff's verdict: a context that raised a false alarm waits longer.

Every routine alert carries its context (``Alert.context``: which view raised it, and the
two-hour block and place, or the kind of morning). Alerting hands it back with the verdict
when staff resolve the alert, so the detector needs no memory of the alerts it raised.

A false alarm multiplies that context's limit by ``STEP`` (at most ``CAP`` in all); the
widening halves (in log terms) every ``HALF_LIFE_DAYS``, so a home whose routine changes
back is watched as closely as before within weeks; and an alert in that context that staff
confirm as real (helped at home, hospital) removes it at once. Only the context that raised
the alert moves: the home's other contexts keep their limits. The limits stay under the
model's absolute cap (``ModelSettings.cap_h``): a collapse is still caught within it.

The table is a few entries at most and absent for homes staff never corrected, so the state
per home stays small (benchmarks/inactivity_state.py).
"""

from __future__ import annotations

import math
from typing import Any

from detector.activity.sensors import Place
from eldercare.logs import get_logger
from eldercare.models import AlertUpdate, Outcome

log = get_logger("detector.inactivity.feedback")

STEP = 1.25
CAP = 2.0
HALF_LIFE_DAYS = 14.0
#: A widening decayed below this is gone (and dropped from the checkpoint).
NEGLIGIBLE = math.log(1.02)
#: Verdicts that say the alert was real: the context's widening is undone.
REAL = frozenset({Outcome.HELPED_AT_HOME, Outcome.HOSPITAL})

#: The views of the rule whose limit a verdict can widen (``Alert.context["rule"]``).
QUIET = "quiet"  # the first line: quiet longer than learned after this context
HOURLY = "hourly"  # the hour-of-day view: longer than ever seen around this hour
NO_WAKE_UP = "no_wake_up"  # not up by the usual time
BATH_STAY = "bath_stay"  # still busy in the bathroom for longer than usual
#: The views whose alert is about silence: one stands until the resident is seen again.
SILENCE = frozenset({QUIET, HOURLY, NO_WAKE_UP})


def quiet_context(view: str, block: int, place: Place, state: str) -> dict[str, Any]:
    """The context of an alert raised by quiet after a sign of life in ``place``."""
    return {"rule": view, "block": block, "place": place.name.lower(), "state": state}


def wake_context(weekend: bool) -> dict[str, Any]:
    return {"rule": NO_WAKE_UP, "weekend": weekend}


def bath_context(night: bool) -> dict[str, Any]:
    return {"rule": BATH_STAY, "night": night}


def key_of(context: dict[str, Any]) -> str | None:
    """The table key a verdict on this context moves, or None if no limit is learned for it
    (door left open, night wandering, a family's expectation: set by people, not widened)."""
    rule = context.get("rule")
    if rule in (QUIET, HOURLY):
        place = str(context.get("place", "")).upper()
        block = context.get("block")
        if place in Place.__members__ and isinstance(block, int):
            return slot(str(rule), block, Place[place])
        return None
    if rule == NO_WAKE_UP:
        return wake_slot(bool(context.get("weekend")))
    if rule == BATH_STAY:
        return bath_slot(bool(context.get("night")))
    return None


def slot(view: str, block: int, place: Place) -> str:
    return f"{view}/{block}/{place.name.lower()}"


def wake_slot(weekend: bool) -> str:
    return f"{NO_WAKE_UP}/{int(weekend)}"


def bath_slot(night: bool) -> str:
    return f"{BATH_STAY}/{int(night)}"


class Widening:
    """Per-home factors by context key: log of the factor at the last verdict, and its day
    (local date ordinal, the model's ``last_day`` scale)."""

    __slots__ = ("entries",)

    def __init__(self, entries: dict[str, tuple[float, int]] | None = None) -> None:
        self.entries = entries or {}

    def __len__(self) -> int:
        return len(self.entries)

    def log_factor(self, key: str, day: int) -> float:
        entry = self.entries.get(key)
        if entry is None:
            return 0.0
        logged, since = entry
        return logged * 0.5 ** (max(day - since, 0) / HALF_LIFE_DAYS)

    def false_alarm(self, key: str, day: int) -> float:
        """Widen ``key`` by one step (bounded); returns the new factor."""
        logged = min(self.log_factor(key, day) + math.log(STEP), math.log(CAP))
        self.entries[key] = (logged, day)
        self._prune(day)
        return math.exp(logged)

    def confirmed(self, key: str) -> bool:
        """A real alert in this context: undo its widening. True if there was one."""
        return self.entries.pop(key, None) is not None

    def _prune(self, day: int) -> None:
        for key in [k for k in self.entries if self.log_factor(k, day) < NEGLIGIBLE]:
            del self.entries[key]

    def to_dict(self) -> dict[str, list[float | int]]:
        return {key: [logged, day] for key, (logged, day) in self.entries.items()}

    @classmethod
    def from_dict(cls, data: dict[str, list[float | int]]) -> Widening:
        return cls({key: (float(logged), int(day)) for key, (logged, day) in data.items()})


def widened(widening: Widening | None, key: str, day: int) -> float:
    """The factor on the limit of context ``key`` (1.0 for a home staff never corrected)."""
    return 1.0 if widening is None else math.exp(widening.log_factor(key, day))


def judge(widening: Widening | None, update: AlertUpdate, day: int) -> Widening | None:
    """Apply one verdict to a home's table (created on the first false alarm); logged."""
    key = key_of(update.context or {})
    if key is None or update.outcome is None:
        return widening
    ids = {"home": update.home, "alert_id": update.alert_id, "context": key}
    if update.outcome is Outcome.FALSE_ALARM:
        widening = widening or Widening()
        factor = widening.false_alarm(key, day)
        log.info("context_widened", **ids, factor=round(factor, 3), contexts=len(widening))
    elif update.outcome in REAL and widening is not None and widening.confirmed(key):
        log.info("context_widening_undone", **ids, outcome=update.outcome.value)
    return widening or None  # an emptied table costs nothing

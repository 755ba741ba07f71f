"""Holiday / away mode ("in hospital until Friday"), as staff set it: no routine alerts and
no learning while it lasts, and a sane context when it ends.

When the end passes with no sign of life since it was set, the resident is expected back
through the front door, so the usual out-of-home limit applies from then on; if they came
back early, the context of their last activity stands (an early return does not end the
mode by itself: a neighbour watering the plants must not turn an empty home into an alarm).
"""

from __future__ import annotations

from datetime import datetime

from detector.activity.home import HomeState
from detector.activity.model import ModelSettings
from detector.activity.sensors import Place


def begin(state: HomeState, until: datetime | None, reason: str) -> None:
    """``until=None`` ends it now; the last sign of life marks when it began."""
    state.away_until, state.away_reason = until, reason
    state.away_marker = state.last_ts


def follow(state: HomeState | None, until: datetime | None, reason: str, now: datetime) -> bool:
    """Apply the mode as staff last set it (read again every minute): only a change counts,
    so the moment a stay began is kept; an end set by staff is handled like an end date
    reached. True when a new stay begins (the caller begins it, creating the home's state)."""
    current = state.away_until if state is not None else None
    if until == current:
        return False
    if until is None:
        if state is not None and current is not None and current > now:
            state.away_until = now  # the next check ends it
            state.next_check = None
        return False
    if state is not None and current is not None:
        state.away_until, state.away_reason = until, reason  # moved: still the same stay
        return False
    return True


def end(state: HomeState, model: ModelSettings) -> None:
    assert state.away_until is not None
    # Seen at home since holiday mode began: back early, the context stands as it is.
    if state.last_ts is None or state.last_ts == state.away_marker:
        state.last_ts, state.last_place = state.away_until, Place.OUT
        state.context_place = Place.OUT
        state.context_hour = state.hour(state.away_until)
        state.threshold_h = state.limit_h(model)
        state.pending.inactivity = ""
    state.away_until, state.away_reason = None, ""

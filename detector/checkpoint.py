"""Per-home detector state on disk, so a restart loses no timer and repeats no alert.

Rules that keep state implement ``snapshot() -> bytes`` and ``restore(bytes)``. The file is
written atomically (temp file + rename) at intervals, right after any alert, and on
shutdown; one JSON object maps rule name to its snapshot.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from eldercare.logs import get_logger

log = get_logger("detector.checkpoint")


@runtime_checkable
class Checkpointable(Protocol):
    name: str

    def snapshot(self) -> bytes: ...

    def restore(self, data: bytes) -> None: ...


#: The shortest wait between two ticks, so a deadline just past cannot spin the loop.
MIN_TICK_S = 0.2


def must_save_now(rules: Sequence[object]) -> bool:
    """True while a rule runs a timer shorter than the checkpoint interval (a fall's 15 s
    confirmation window): saved on every 10 s tick then, a crash after the first tick of the
    window does not lose it (only one in the seconds before that tick can)."""
    return any(getattr(rule, "short_timers_open", False) for rule in rules)


def seconds_to_next_tick(rules: Sequence[object], now: datetime, tick_s: float) -> float:
    """The regular tick, or sooner when a rule has a deadline before it (a fall's confirmation
    window); never a busy loop."""
    deadlines = [
        deadline
        for rule in rules
        if (next_deadline := getattr(rule, "next_deadline", None)) is not None
        and (deadline := next_deadline()) is not None
    ]
    if not deadlines:
        return tick_s
    return min(tick_s, max(MIN_TICK_S, (min(deadlines) - now).total_seconds()))


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, rules: Sequence[object]) -> None:
        blobs = {
            rule.name: base64.b64encode(rule.snapshot()).decode()
            for rule in rules
            if isinstance(rule, Checkpointable)
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(blobs))
        os.replace(temporary, self.path)

    def load(self, rules: Sequence[object]) -> bool:
        """Restore every rule found in the file; False if there is no checkpoint yet."""
        if not self.path.exists():
            return False
        try:
            blobs = json.loads(self.path.read_text())
        except ValueError:
            log.error("checkpoint_unreadable", path=str(self.path))
            return False
        for rule in rules:
            if isinstance(rule, Checkpointable) and rule.name in blobs:
                rule.restore(base64.b64decode(blobs[rule.name]))
        log.info("checkpoint_restored", path=str(self.path), rules=sorted(blobs))
        return True

"""What a scenario (or a fault plan) changes in one home's otherwise normal life.

Kept as plain data the renderer consults, so the routine and the sensors stay ignorant of
scenarios: a fall is "from 07:40 the intentions are: fallen in the bathroom", a power cut
is "from 14:00 nothing from any device, and the hub's last will says offline".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.routine import Segment
from simulator.sensors import Reading


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) in POSIX seconds; ``device`` None means every device of the home."""

    start: float
    end: float
    device: str | None = None

    def covers(self, at: float, device: str) -> bool:
        return self.start <= at < self.end and (self.device is None or self.device == device)


#: Rewrites the resident's intentions: (segments of a stretch, its start, its end) -> segments.
Rewrite = Callable[[list[Segment], float, float], list[Segment]]


@dataclass
class HomeScript:
    rewrites: list[Rewrite] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)  # extra device reports
    silences: list[Window] = field(default_factory=list)
    held_open: list[Window] = field(default_factory=list)
    offline_at: list[tuple[float, str]] = field(default_factory=list)  # last wills
    battery: dict[str, tuple[float, float]] = field(default_factory=dict)  # device: (from, %)
    heat: tuple[float, float, float] | None = None  # (start, ramp_s, peak °C)

    def silenced(self, at: float, device: str) -> bool:
        return any(window.covers(at, device) for window in self.silences)

    def door_held(self, at: float, device: str) -> bool:
        return any(window.covers(at, device) for window in self.held_open)

    def rewrite(self, segments: list[Segment], start: float, end: float) -> list[Segment]:
        for rewrite in self.rewrites:
            segments = rewrite(segments, start, end)
        return segments

"""A bounded, ordered disk spool for time-series points the server did not take.

Why a spool at all: an InfluxDB restart or a network cut must not punch holes into a
resident's day view. Points are kept as InfluxDB line protocol, one file per batch
("segment"), named by a growing index so the oldest is replayed first and the order of
writing survives a restart of our process. A segment appears atomically (write to a
temporary file, fsync, rename), so a crash leaves whole segments or none.

Why bounded, and why the OLDEST go first: a long outage must not fill the disk that the
alert database lives on. When the bound is reached the oldest points are dropped, because
the live views (today's day view, the station overview, system health) show the recent
hours; every dropped point is counted and logged, never silent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from eldercare.logs import get_logger

log = get_logger("series_spool")

_SEGMENT = re.compile(r"^(?P<index>\d{16})-(?P<count>\d+)\.lp$")


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    index: int
    count: int
    size: int

    def lines(self) -> list[str]:
        return self.path.read_text(encoding="utf-8").split("\n")


class DiskSpool:
    """FIFO of line-protocol batches on disk, at most ``max_bytes`` in total."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("spool max_bytes must be positive")
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._segments: list[Segment] = []
        for path in directory.iterdir():
            match = _SEGMENT.match(path.name)
            if match:
                self._segments.append(
                    Segment(path, int(match["index"]), int(match["count"]), path.stat().st_size)
                )
            elif path.suffix == ".tmp":
                path.unlink()  # a crash mid-append: that batch was never acknowledged as spooled
        self._segments.sort(key=lambda segment: segment.index)
        self._next_index = self._segments[-1].index + 1 if self._segments else 0
        #: Running totals, so a spool of thousands of segments is not re-summed per append.
        self.points = sum(segment.count for segment in self._segments)
        self.size = sum(segment.size for segment in self._segments)
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._segments)

    def append(self, lines: list[str]) -> int:
        """Store a batch at the tail; returns how many (oldest) points had to be dropped."""
        if not lines:
            return 0
        dropped = 0
        body = "\n".join(lines).encode()
        while len(body) > self.max_bytes:
            # One batch larger than the whole spool: keep its newest lines that fit.
            lines = lines[1:]
            dropped += 1
            body = "\n".join(lines).encode()
        while self._segments and self.size + len(body) > self.max_bytes:
            dropped += self._drop_oldest()
        if lines:
            self._write_segment(lines, body)
        self.dropped += dropped
        return dropped

    def oldest(self) -> Segment | None:
        return self._segments[0] if self._segments else None

    def remove(self, segment: Segment) -> None:
        """Forget a segment after the server acknowledged it."""
        self._segments.remove(segment)
        self.points -= segment.count
        self.size -= segment.size
        segment.path.unlink(missing_ok=True)

    def _drop_oldest(self) -> int:
        segment = self._segments[0]
        self.remove(segment)
        return segment.count

    def _write_segment(self, lines: list[str], body: bytes) -> None:
        index = self._next_index
        self._next_index += 1
        final = self.directory / f"{index:016d}-{len(lines)}.lp"
        temporary = final.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(final)
        self._segments.append(Segment(final, index, len(lines), len(body)))
        self.points += len(lines)
        self.size += len(body)

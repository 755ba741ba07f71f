"""Fall detector speed and memory: ``python benchmarks/falls_detector.py [PENDANTS]``.

Measures, on this machine:
- candidate windows classified per second by the shipped model (one at a time, as a
  pendant asks, and in batches);
- the whole streaming path (resampling, peak search, features, model) over real SisFall
  recordings sent as one-second 50 Hz batches: pendant-seconds per wall second and
  windows decided per second;
- memory per active pendant inside the ``FallRule`` (tracemalloc over many pendants).
Uses ../shared/data/sisfall-dev (or $ELDERCARE_SHARED_DATA) when present, else a
synthetic signal with impacts.
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from detector.falls.rule import FallRule
from detector.falls.scoring import bundled_model
from detector.falls.stream import FallConfig, FallStream
from eldercare.models import Metric, Telemetry
from evaluation.falls.replay import downsample
from evaluation.falls.sisfall import find_trials, read_trial

RATE = 50.0


def _recordings() -> tuple[str, list[np.ndarray]]:
    here = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sisfall-dev"
    data = (
        here
        if here.is_dir()
        else Path(os.environ.get("ELDERCARE_SHARED_DATA", "/-")) / "sisfall-dev"
    )
    if data.is_dir():
        trials = [t for t in find_trials(data) if t.subject in {"SA02", "SE03"}]
        return f"SisFall {data} (SA02, SE03)", [
            downsample(read_trial(t.path), RATE) for t in trials
        ]
    rng = np.random.default_rng(0)
    signal = rng.normal(0, 0.05, (int(RATE * 600), 3)) + np.array([0.0, 0.0, 1.0])
    signal[:: int(RATE * 7)] += [0, 0, 4]  # an impact every 7 s
    return "synthetic", [signal]


def classification_rate(model, rows: np.ndarray, batch: int, seconds: float = 2.0) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for begin in range(0, len(rows), batch):
            model.scores(rows[begin : begin + batch])
        done += len(rows)
    return done / (time.perf_counter() - started)


def main(pendants: int) -> None:
    model = bundled_model()
    if model is None:
        sys.exit("no bundled model")
    config = FallConfig(**model.config)
    source, recordings = _recordings()
    print(f"data: {source}; {len(recordings)} recordings")

    stream = FallStream(model, config)
    started = time.perf_counter()
    decided, seconds, rows = 0, 0.0, []
    offset = 0.0
    for samples in recordings:
        for begin in range(0, len(samples), int(RATE)):
            out = stream.push(offset + begin / RATE, RATE, samples[begin : begin + int(RATE)])
            decided += len(out)
            rows.extend(c.features for c in out)
        offset += len(samples) / RATE + 10  # a gap between recordings
        seconds += len(samples) / RATE
    elapsed = time.perf_counter() - started
    print(
        f"streaming path: {seconds:.0f} pendant-seconds in {elapsed:.2f} s = "
        f"{seconds / elapsed:,.0f}x real time; {decided} windows decided "
        f"({decided / elapsed:,.0f} windows/s including the signal work)"
    )
    features = np.vstack(rows)
    for batch in (1, 64):
        rate = classification_rate(model, features, batch)
        print(f"model alone, batches of {batch:>2}: {rate:,.0f} windows classified/s")

    rule = FallRule(model, config)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    chunk = recordings[0][: int(RATE)]
    samples = [tuple(row) for row in chunk.tolist()]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for pendant in range(pendants):
        for second in range(8):  # enough to fill each pendant's window
            rule.on_telemetry(
                Telemetry(
                    home=f"h-{pendant:06d}",
                    device="pendant",
                    seq=second + 1,
                    ts=start + timedelta(seconds=second),
                    metric=Metric.ACCEL,
                    rate_hz=RATE,
                    samples=samples,
                ),
                start + timedelta(seconds=second + 1),
            )
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    window = next(iter(rule.pendants.values())).stream.nbytes
    print(
        f"memory: {grown / pendants / 1024:.1f} KiB per active pendant "
        f"({pendants} pendants in one FallRule; numeric window {window / 1024:.1f} KiB)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

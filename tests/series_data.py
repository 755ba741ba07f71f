"""Contract messages for time-series tests, and the samples VictoriaMetrics must hold for them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from eldercare.models import (
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Metric,
    SeriesPoint,
    Telemetry,
)
from eldercare.series_points import message_point
from tests.victoria import Sample

#: Recent enough for any retention, whole milliseconds, so the point time is exact.
BASE = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
ROOMS = {"pir": "living_room", "bed": "bedroom", "therm": "bathroom"}


def message(index: int) -> Event | Telemetry | DeviceStatus:
    """The index-th message of a small world: 7 homes, all three channels, distinct times."""
    home = f"h-{index % 7:04d}"
    ts = BASE + timedelta(milliseconds=index)
    match index % 6:
        case 0:
            return Event(home=home, device="pir", seq=index, ts=ts, type=EventType.MOTION)
        case 1:
            kind = EventType.BED_OCCUPIED if index % 4 == 1 else EventType.BED_EMPTY
            return Event(
                home=home, device="bed", seq=index, ts=ts, type=kind, value={"pressure": index % 9}
            )
        case 2:
            return Telemetry(
                home=home,
                device="therm",
                seq=index,
                ts=ts,
                metric=Metric.TEMPERATURE,
                value=round(15 + (index % 150) / 10, 1),
            )
        case 3:
            return Telemetry(
                home=home,
                device="pendant",
                seq=index,
                ts=ts,
                metric=Metric.ACCEL,
                rate_hz=50,
                samples=[(0.0, 0.1 * (index % 5), 1.0), (0.3, -0.2, 0.9), (1.5, 0.4, 2.2)],
            )
        case 4:
            return Telemetry(
                home=home,
                device="pendant",
                seq=index,
                ts=ts,
                metric=Metric.BATTERY,
                value=float(100 - index % 100),
            )
        case _:
            state = DeviceState.ONLINE if index % 4 else DeviceState.OFFLINE
            return DeviceStatus(home=home, device="pir", state=state, ts=ts)


def points(count: int, first: int = 0) -> list[SeriesPoint]:
    return [
        message_point(item, BASE, ROOMS.get(item.device))
        for item in map(message, range(first, first + count))
    ]


def expected_samples(series: Iterable[SeriesPoint]) -> Counter[Sample]:
    """What VictoriaMetrics stores: one ``measurement_field`` sample per field, bool as 0/1."""
    samples: Counter[Sample] = Counter()
    for point in series:
        labels = tuple(sorted(point.tags.items()))
        ms = round(point.ts.timestamp() * 1000)
        for field, value in point.fields.items():
            assert not isinstance(value, str), "VictoriaMetrics does not store strings"
            samples[(f"{point.measurement}_{field}", labels, ms, float(value))] += 1
    return samples

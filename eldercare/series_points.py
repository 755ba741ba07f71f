"""The time-series points we write, and their line protocol.

What is written, and why in this shape (the Grafana dashboards read exactly this):

============== =============================== ==========================================
measurement    tags                            fields
============== =============================== ==========================================
event          home, device, room, type        count=1i, seq (int), value_<key> (float or
               (type: the EventType)           bool, numeric/boolean entries of ``value``)
telemetry      home, device, room, type        value (float), seq (int); accelerometer
               (type: the Metric)              batches: samples (int), rate_hz, svm_peak,
                                               svm_mean (g) instead of ``value``
device_status  home, device, room, type        online (bool)
               (type: online/offline)
quarantine     home, device (when known),      count=1i
               type (the reject reason)
series_writer  service                         written, spooled, replayed, dropped,
                                               rejected, spool_points, spool_bytes (int)
============== =============================== ==========================================

Points carry the device's event time at millisecond precision. Accelerometer windows are
summarised (peak and mean signal vector magnitude), not stored sample by sample: the fall
model sees the raw window on the bus, the day view needs only "how much did she move".
String values of events are not written, so the same schema works on InfluxDB and on
VictoriaMetrics (which cannot store strings); detector rules may still write any
``SeriesPoint`` they like.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from influxdb_client import Point, WritePrecision

from eldercare.models import DeviceState, DeviceStatus, Event, Metric, SeriesPoint, Telemetry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _tags(home: str | None, device: str | None, room: str | None, type_: str) -> dict[str, str]:
    tags = {"home": home, "device": device, "room": room, "type": type_}
    return {key: value for key, value in tags.items() if value}


def event_point(event: Event, room: str | None = None) -> SeriesPoint:
    fields: dict[str, float | int | bool | str] = {"count": 1, "seq": event.seq}
    for key, value in event.value.items():
        if isinstance(value, bool):
            fields[f"value_{key}"] = value
        elif isinstance(value, int | float):
            # Always float: an int one day and a float the next is a type conflict in InfluxDB.
            fields[f"value_{key}"] = float(value)
    return SeriesPoint(
        measurement="event",
        tags=_tags(event.home, event.device, room, event.type.value),
        fields=fields,
        ts=event.ts,
    )


def telemetry_point(telemetry: Telemetry, room: str | None = None) -> SeriesPoint:
    fields: dict[str, float | int | bool | str] = {"seq": telemetry.seq}
    if telemetry.metric is Metric.ACCEL:
        assert telemetry.samples is not None and telemetry.rate_hz is not None  # validated
        magnitudes = [math.sqrt(x * x + y * y + z * z) for x, y, z in telemetry.samples]
        fields |= {
            "samples": len(magnitudes),
            "rate_hz": float(telemetry.rate_hz),
            # 0.1 mg is far below sensor noise, and short decimals survive any backend exactly.
            "svm_peak": round(max(magnitudes), 4),
            "svm_mean": round(sum(magnitudes) / len(magnitudes), 4),
        }
    else:
        assert telemetry.value is not None  # validated by the contract
        fields["value"] = float(telemetry.value)
    return SeriesPoint(
        measurement="telemetry",
        tags=_tags(telemetry.home, telemetry.device, room, telemetry.metric.value),
        fields=fields,
        ts=telemetry.ts,
    )


def status_point(status: DeviceStatus, at: datetime, room: str | None = None) -> SeriesPoint:
    """``at`` stands in for a last-will ``offline`` that carries no time of its own."""
    return SeriesPoint(
        measurement="device_status",
        tags=_tags(status.home, status.device, room, status.state.value),
        fields={"online": status.state is DeviceState.ONLINE},
        ts=status.ts or at,
    )


def message_point(
    message: Event | Telemetry | DeviceStatus, at: datetime, room: str | None = None
) -> SeriesPoint:
    """The point for any normalised device message (``at``: when the gateway saw it)."""
    if isinstance(message, Event):
        return event_point(message, room)
    if isinstance(message, Telemetry):
        return telemetry_point(message, room)
    return status_point(message, at, room)


def quarantine_point(
    reason: str, at: datetime, home: str | None = None, device: str | None = None
) -> SeriesPoint:
    kind = reason.split(":", 1)[0].strip() or "unknown"
    return SeriesPoint(
        measurement="quarantine", tags=_tags(home, device, None, kind), fields={"count": 1}, ts=at
    )


def epoch_ms(at: datetime) -> int:
    """Exact integer milliseconds. influxdb-client converts datetimes through a float and
    can land 1 ms early (…13.042 became …13.041), which shifts, and in InfluxDB can even
    overwrite, the point written 1 ms before; so we hand it an integer."""
    return (at - _EPOCH) // timedelta(milliseconds=1)


class UnwritablePoint(ValueError):
    """A point with no field the server would accept."""


def to_line(point: SeriesPoint) -> str:
    """InfluxDB line protocol at millisecond precision (influxdb-client does the escaping).

    Non-finite floats (a device may send ``Infinity``) are left out: InfluxDB refuses the
    whole batch for one ``inf``, which would cost a thousand good points for one bad one.
    """
    line = Point(point.measurement).time(epoch_ms(point.ts), WritePrecision.MS)
    for key, tag in sorted(point.tags.items()):
        line.tag(key, tag)
    fields = 0
    for key, field in point.fields.items():
        if isinstance(field, float) and not math.isfinite(field):
            continue
        line.field(key, field)
        fields += 1
    if not fields:
        raise UnwritablePoint(f"{point.measurement}: no finite field in {point.fields}")
    return str(line.to_line_protocol())

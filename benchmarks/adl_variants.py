"""Generality of the inactivity method: one recorded home replayed with other sensors.

Replays the CASAS recording untouched and with sensors removed, renamed or turned into other
kinds (bed-pressure mat, cupboard contacts), with the same general settings, and prints false
alarms and collapse delays for each. Run:
``python benchmarks/adl_variants.py ../shared/data/casas-al-smarthome 200``.
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from evaluation.activity.replay import Reading, build_directory, evaluate, load_recording, to_events


def untouched(readings: list[Reading]) -> list[Reading]:
    return readings


def no_bedroom(readings: list[Reading]) -> list[Reading]:
    return [r for r in readings if r.location != "Bedroom"]


def no_bathroom(readings: list[Reading]) -> list[Reading]:
    return [r for r in readings if r.location != "Bathroom"]


def renamed(readings: list[Reading]) -> list[Reading]:
    rooms = {"Bathroom": "WC", "Bedroom": "Schlafzimmer"}
    return [
        Reading(
            r.ts,
            f"S{zlib.crc32(r.sensor.encode()) % 997}",
            re.sub("|".join(rooms), lambda m: rooms[m.group()], r.location),
            r.state,
        )
        for r in readings
    ]


def cupboard_contacts(readings: list[Reading]) -> list[Reading]:
    states = {"ON": "OPEN", "OFF": "CLOSE"}
    return [
        Reading(r.ts, "KitchenCabinet", "Kitchen", states[r.state])
        if r.location == "Kitchen"
        else r
        for r in readings
    ]


def bed_pressure(readings: list[Reading]) -> list[Reading]:
    """Bedroom motion replaced by a bed mat: on at night-time bedroom motion, off when the
    resident is next seen elsewhere. Sleep is then silent apart from the mat."""
    out: list[Reading] = []
    occupied = False
    for r in readings:
        if r.location == "Bedroom":
            if (r.ts.hour >= 21 or r.ts.hour < 8) and not occupied and r.state == "ON":
                out.append(Reading(r.ts, "BedPressure", "Bedroom", "ON"))
                occupied = True
            continue
        if occupied and r.state in ("ON", "OPEN"):
            out.append(Reading(r.ts - timedelta(seconds=5), "BedPressure", "Bedroom", "OFF"))
            occupied = False
        out.append(r)
    return out


VARIANTS: dict[str, Callable[[list[Reading]], list[Reading]]] = {
    "untouched": untouched,
    "bed_pressure": bed_pressure,
    "no_bedroom": no_bedroom,
    "no_bathroom": no_bathroom,
    "cupboard_contacts": cupboard_contacts,
    "renamed": renamed,
}


def main(data_dir: Path, collapses: int, seed: int = 5) -> None:
    base = load_recording(data_dir)
    for name, variant in VARIANTS.items():
        readings = variant(base)
        infos = build_directory(readings, {})
        summary = evaluate(
            to_events(readings, infos), infos, collapses=collapses, seed=seed
        ).summary()
        c = summary.get("collapses", {})
        row = {
            "fa_per_100_days": summary["false_alarms_per_100_days"],
            "kinds": summary["false_alarm_kinds"],
            "detected_pct": c.get("detected_within_12h_pct"),
            "median_h": c.get("all", {}).get("median_h"),
            "day_median_h": c.get("day_08_22", {}).get("median_h"),
            "night_median_h": c.get("night", {}).get("median_h"),
        }
        print(name, json.dumps(row), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100)

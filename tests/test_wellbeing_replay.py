"""scripts/wellbeing_replay.py: a recorded home through the daily summaries, against its labels."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from scripts import wellbeing_replay

#: One ordinary day of a CASAS-style recording (no bed sensor): (time, sensor, location,
#: state, label); the night before it starts at 22:50.
DAY = [
    ("02:00:00", "Bedroom", "Bedroom", "ON", "Sleep"),
    ("02:01:00", "Bathroom", "Bathroom", "ON", "Bed_Toilet_Transition"),
    ("02:05:00", "Bedroom", "Bedroom", "ON", "Sleep"),
    ("07:30:00", "Bedroom", "Bedroom", "ON", "Wake_Up"),
    ("07:31:00", "Bathroom", "Bathroom", "ON", "Personal_Hygiene"),
    ("07:40:00", "Bedroom", "Bedroom", "ON", "Dress"),
    ("07:50:00", "Kitchen", "Kitchen", "ON", "Cook_Breakfast"),
    ("12:00:00", "Kitchen", "Kitchen", "ON", "Cook_Lunch"),
    ("14:00:00", "OutsideDoor", "FrontDoor", "OPEN", "Leave_Home"),
    ("14:00:30", "OutsideDoor", "FrontDoor", "CLOSE", "Leave_Home"),
    ("16:00:00", "OutsideDoor", "FrontDoor", "OPEN", "Enter_Home"),
    ("16:00:30", "OutsideDoor", "FrontDoor", "CLOSE", "Enter_Home"),
    ("16:01:00", "LivingRoom", "LivingRoom", "ON", "Relax"),
    ("18:00:00", "Kitchen", "Kitchen", "ON", "Cook_Dinner"),
    ("20:00:00", "LivingRoom", "LivingRoom", "ON", "Watch_TV"),
    ("22:40:00", "Bathroom", "Bathroom", "ON", "Personal_Hygiene"),
    ("22:50:00", "Bedroom", "Bedroom", "ON", "Sleep"),
]


def recording(tmp_path: Path, days: int) -> Path:
    first = date(2011, 6, 15)
    lines = [
        f"{first + timedelta(days=n)} {at}.000000 {sensor} {location} {state} {label}"
        for n in range(days)
        for at, sensor, location, state, label in DAY
    ]
    path = tmp_path / "data"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recorded_days_match_their_labels(tmp_path: Path) -> None:
    path = recording(tmp_path, 4)
    days = wellbeing_replay.summaries(path)
    labels = wellbeing_replay.labelled(path.read_text().splitlines())
    assert [d.day for d in days] == [date(2011, 6, 15) + timedelta(days=n) for n in range(3)]
    settled = days[1:]  # the first day starts at the recording's 02:00
    # up at 07:31: the bedroom still saw her in bed at 07:30 (labelled Wake_Up)
    assert all(d.sleep_onset_h == 22.83 and d.wake_h == 7.52 for d in settled)
    assert all(d.night_bathroom == 1 and d.outings == 1 and d.meals == 3 for d in settled)
    assert all(1.9 <= d.out_h <= 2.1 for d in settled)
    assert wellbeing_replay.agreement(settled, labels) == {
        "sleep_onset_h": 0.0,
        "wake_h": 0.02,
        "night_toilet": 0,
        "out_h": 0.0,
        "outings": 0,
        "meals": 0,
    }
    chart = wellbeing_replay.svg(settled, labels, "test")
    assert chart.startswith("<svg") and chart.count("<rect") == 1 + 4 * len(settled)

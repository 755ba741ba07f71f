"""The recording converters (scripts/convert_adl.py): what they write is what `eval adl` reads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from detector.activity.sensors import Place, Role
from evaluation.activity.replay import build_directory, load_map, load_recording
from scripts import convert_adl

START = datetime(2012, 1, 2)
HOUSE_A = convert_adl.ARAS_HOUSES["A"]


def aras_row(on: set[int], labels: str = "11 11") -> str:
    """One second of an ARAS house-A file: the 1-based columns in ``on`` are active."""
    return " ".join("1" if column in on else "0" for column in range(1, 21)) + f" {labels}"


def test_aras_reports_state_changes_with_day_and_second() -> None:
    day1 = [aras_row({20}), aras_row({20}), aras_row(set())]  # in bed at midnight, up at 00:00:02
    day2 = [aras_row({12})]  # house door open at midnight of day 2
    lines = list(convert_adl.aras_lines([day1, day2], HOUSE_A, START))
    assert lines == [
        (datetime(2012, 1, 2, 0, 0, 0), "Fo3_Bed", "Bedroom", "ON"),
        (datetime(2012, 1, 2, 0, 0, 2), "Fo3_Bed", "Bedroom", "OFF"),
        (datetime(2012, 1, 3, 0, 0, 0), "Co1_HouseDoor", "Hall", "OPEN"),
    ]


def test_aras_state_carries_over_midnight() -> None:
    """A bed still occupied at the start of the next day file is no new event."""
    lines = list(convert_adl.aras_lines([[aras_row({20})], [aras_row({20})]], HOUSE_A, START))
    assert len(lines) == 1


def test_aras_day_files_in_day_order(tmp_path: Path) -> None:
    for day in (1, 2, 10):
        (tmp_path / f"DAY_{day}.txt").write_text("")
    assert [p.name for p in convert_adl.aras_day_files(tmp_path)] == [
        "DAY_1.txt",
        "DAY_2.txt",
        "DAY_10.txt",
    ]


def test_aras_home_replays_with_the_intended_meaning(tmp_path: Path) -> None:
    """The written folder is a home `eval adl` reads: front door, bed, chair, cupboard,
    ignored temperature, as the sensors.yaml says."""
    house = tmp_path / "HouseA"
    house.mkdir()
    seconds = [aras_row({20}), aras_row({12, 19}), aras_row({4, 8}), aras_row(set())]
    (house / "DAY_1.txt").write_text("\n".join(seconds) + "\n")
    out = tmp_path / "aras-houseA"
    convert_adl.main(["aras", str(house), str(out), "--house", "A"])

    readings = load_recording(out)
    infos = build_directory(readings, load_map(out / "sensors.yaml"))
    meaning = {device: (info.role, info.place) for device, info in infos.items()}
    assert meaning["Fo3_Bed-Bedroom"] == (Role.BED, Place.BED)
    assert meaning["Co1_HouseDoor-Hall"] == (Role.FRONT_DOOR, Place.OUT)
    assert meaning["Fo1_Couch-Living"] == (Role.CHAIR, Place.CHAIR)
    assert meaning["Ph3_Fridge-Kitchen"] == (Role.DOOR, Place.KITCHEN)
    assert meaning["Te1_Temperature-Kitchen"][0] is Role.IGNORE
    assert "TWO" in (out / "SOURCE.txt").read_text()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # aruba: space separated, annotation after the state
        (
            "2010-11-04 00:03:50.209589 M003 ON Sleeping begin",
            (datetime(2010, 11, 4, 0, 3, 50, 209589), "M003", "Bedroom", "ON"),
        ),
        # milan/cairo: tab separated, no microseconds, glitched state
        (
            "2009-10-16\t00:01:04\tM017\tOFF5",
            (datetime(2009, 10, 16, 0, 1, 4), "M017", "M017", "OFF"),
        ),
        # hh1xx rawdata: room hints between sensor and state, sensor type after it
        (
            "2012-07-18 12:54:45.126257 D001 Kitchen KitchenDoor CLOSE Control4-Door",
            (datetime(2012, 7, 18, 12, 54, 45, 126257), "D001", "Kitchen", "CLOSE"),
        ),
        (
            "2012-07-18 12:54:46.5 M009 Ignore Ignore ON Control4-Motion",
            (datetime(2012, 7, 18, 12, 54, 46, 500000), "M009", "M009", "ON"),
        ),
    ],
)
def test_casas_line_formats(line: str, expected: tuple) -> None:
    assert list(convert_adl.casas_lines([line], {"M003": "Bedroom"})) == [expected]


def test_casas_drops_numeric_readings_and_junk() -> None:
    lines = [
        "2010-11-04 00:15:08.984841 T002 21.5",
        "2010-11-04 00:15:09 LS001 80 Control4-LightSensor",
        "not a line",
        "2010-11-04 25:00:00 M003 ON",
    ]
    assert list(convert_adl.casas_lines(lines, {})) == []


def test_casas_home_takes_rooms_and_kinds_from_the_map(tmp_path: Path) -> None:
    raw = tmp_path / "data.txt"
    raw.write_text(
        "2010-11-04 08:00:00.5 M003 ON Sleeping end\n"
        "2010-11-04 08:01:00.5 D001 OPEN\n"
        "2010-11-04 07:59:00.5 M003 OFF\n"
    )
    sensors = tmp_path / "aruba.yaml"
    sensors.write_text(
        "sensors:\n  M003: {room: Bedroom}\n  D001: {room: Entrance, kind: front_door}\n"
    )
    out = tmp_path / "casas-aruba"
    convert_adl.main(["casas", str(raw), str(out), "--map", str(sensors)])

    assert (out / "data").read_text().splitlines()[0] == (
        "2010-11-04 07:59:00.500000 M003 Bedroom OFF"
    )
    infos = build_directory(load_recording(out), load_map(out / "sensors.yaml"))
    assert infos["M003-Bedroom"].place is Place.BEDROOM
    assert infos["D001-Entrance"].role is Role.FRONT_DOOR

"""The real CASAS home replayed through the real rule: figures guarded from regressions.

The full 30-day replay with collapse copies is what ``eldercare eval adl`` reports (see
docs/inactivity.md). Here: the untouched recording, a few collapse copies, and the same home
with its bedroom sensor removed and every sensor renamed, so the method is not fitted to it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eldercare.app.cli import app
from evaluation.activity.replay import (
    Reading,
    build_directory,
    evaluate,
    load_recording,
    parse_lines,
    to_events,
)


def _shared_data() -> Path | None:
    candidate = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if candidate.is_dir():
        return candidate
    env = os.environ.get("ELDERCARE_SHARED_DATA")
    return Path(env) if env and Path(env).is_dir() else None


DATA = _shared_data()
needs_data = pytest.mark.skipif(
    DATA is None, reason="shared data not found (../shared/data or ELDERCARE_SHARED_DATA)"
)


@functools.cache
def casas() -> list[Reading]:
    assert DATA is not None
    return load_recording(DATA / "casas-al-smarthome")


def replay(readings: list[Reading], collapses: int = 0, seed: int = 0) -> dict:
    infos = build_directory(readings, {})
    return evaluate(to_events(readings, infos), infos, collapses=collapses, seed=seed).summary()


@needs_data
@pytest.mark.slow
def test_casas_false_alarms_and_collapses_stay_within_targets() -> None:
    # The README's figures are 1000 collapses; 200 at a fixed seed keep this test at ~10 s
    # and deterministic, and still catch a regression of the daytime median (2.90 h here
    # with the shipped prior, issue 20 round 3; 2.74 h before the prior).
    summary = replay(casas(), collapses=200, seed=1)
    routine = {k: v for k, v in summary["false_alarm_kinds"].items() if k != "door_left_open"}
    assert sum(routine.values()) / summary["scored_days"] * 100 <= 5
    assert summary["false_alarms_per_100_days"] <= 5
    collapses = summary["collapses"]
    assert collapses["detected_within_12h_pct"] >= 95
    assert collapses["day_08_22"]["median_h"] <= 3.0
    assert collapses["night"]["median_h"] <= 6


@needs_data
@pytest.mark.slow
def test_same_home_without_bedroom_sensor_and_renamed_sensors_still_works() -> None:
    renamed = [
        Reading(
            r.ts,
            f"S{zlib.crc32(r.sensor.encode()) % 997}",
            re.sub("Bathroom", "WC", r.location),
            r.state,
        )
        for r in casas()
        if r.location != "Bedroom"
    ]
    summary = replay(renamed, collapses=20, seed=11)
    assert summary["false_alarms_per_100_days"] <= 10
    assert summary["collapses"]["detected_within_12h_pct"] >= 95


def test_cli_reports_json_on_a_small_recording(tmp_path: Path) -> None:
    lines = []
    for day in range(1, 4):
        for hour in range(7, 22):
            lines.append(f"2011-06-0{day} {hour:02d}:00:00.0 Kitchen Kitchen ON Cook")
            lines.append(f"2011-06-0{day} {hour:02d}:00:02.0 Kitchen Kitchen OFF Cook")
        lines.append(f"2011-06-0{day} 22:30:00.0 Bedroom Bedroom ON Sleep")
    (tmp_path / "data").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        app, ["eval", "adl", str(tmp_path), "--learn-days", "1", "--collapses", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"collapses"' in result.output and '"false_alarms_per_100_days"' in result.output


def _small_home(folder: Path, first_hour: int) -> None:
    folder.mkdir(parents=True)
    lines = []
    for day in range(1, 5):
        for hour in range(first_hour, 22):
            lines.append(f"2011-06-0{day} {hour:02d}:00:00.0 Kitchen Kitchen ON")
            lines.append(f"2011-06-0{day} {hour:02d}:00:02.0 Kitchen Kitchen OFF")
    (folder / "data").write_text("\n".join(lines) + "\n")


def test_cli_scores_a_folder_of_homes_and_simulated_homes_apart(tmp_path: Path) -> None:
    _small_home(tmp_path / "homes" / "a", 7)
    _small_home(tmp_path / "homes" / "nested" / "b", 9)
    result = CliRunner().invoke(
        app,
        [
            *("eval", "adl", str(tmp_path / "homes"), "--sim", "1", "--sim-days", "3"),
            *("--collapses", "2", "--learn-days", "1", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(r["group"], r["home"]) for r in report["homes"]][:2] == [
        ("real", "homes/a"),
        ("real", "homes/nested/b"),
    ]
    assert report["homes"][2]["group"] == "simulated"
    assert set(report["pooled"]) == {"real", "simulated"}
    real = report["pooled"]["real"]
    assert real["homes"] == 2 and real["collapses"] == 4
    assert real["scored_days"] == sum(r["scored_days"] for r in report["homes"][:2])


def _readings(*lines: str) -> list[Reading]:
    return list(parse_lines(lines))


def test_both_edges_of_a_switch_or_mat_are_someone_there() -> None:
    """An evening on a seat mat ends when the resident stands up (OFF: the chair empty), and
    a cupboard shut or a tap turned off is a hand on it: the replay must not take the OFF for
    a sensor timing out (it did, and the quiet ran from sitting down at 19:00 to the next
    other sensor)."""
    readings = _readings(
        "2011-01-03 19:00:00 Seat Living ON",
        "2011-01-03 22:10:00 Seat Living OFF",
        "2011-01-03 22:12:00 Cupboard Kitchen ON",
        "2011-01-03 22:12:04 Cupboard Kitchen OFF",
    )
    events = to_events(readings, build_directory(readings, {}))
    assert [e.ts.strftime("%H:%M:%S") for e in events] == [
        "19:00:00",
        "22:10:00",
        "22:12:00",
        "22:12:04",
    ]
    assert [e.type.value for e in events] == [
        "chair_occupied",
        "chair_empty",
        "motion",
        "motion",
    ]


def test_a_door_switch_named_for_the_entrance_is_the_front_door_where_no_contact_is() -> None:
    """Recordings that report every switch as ON/OFF name the front door only by name
    ("Frontdoor", "Maindoor Entrance"): without this, no outing was ever seen and every
    afternoon out was quiet at home. A motion sensor "OutsideDoor" beside a real contact
    front door stays a motion sensor (CASAS)."""
    switches_only = _readings(
        "2011-01-03 09:00:00 Frontdoor Hall ON",
        "2011-01-03 09:00:05 Frontdoor Hall OFF",
        "2011-01-03 09:10:00 Fridge Kitchen ON",
        "2011-01-03 09:10:09 Fridge Kitchen OFF",
    )
    roles = {d: i.role.value for d, i in build_directory(switches_only, {}).items()}
    assert roles["Frontdoor-Hall"] == "front_door"
    assert roles["Fridge-Kitchen"] == "motion"
    events = to_events(switches_only, build_directory(switches_only, {}))
    assert [e.type.value for e in events[:2]] == ["door_open", "door_close"]

    with_contact = _readings(
        "2011-01-03 09:00:00 OutsideDoor Entry ON",
        "2011-01-03 09:00:02 OutsideDoor FrontDoor OPEN",
        "2011-01-03 09:00:09 OutsideDoor FrontDoor CLOSE",
        "2011-01-03 09:00:10 OutsideDoor Entry OFF",
    )
    roles = {d: i.role.value for d, i in build_directory(with_contact, {}).items()}
    assert roles == {"OutsideDoor-Entry": "motion", "OutsideDoor-FrontDoor": "front_door"}


def _life_with_an_absence() -> list[Reading]:
    """Nine ordinary days (kitchen, living room and bedroom motion every 10 minutes from
    07:00 to 22:00), then three days away without a door sensor during which one motion
    sensor or another fires alone every five hours (tm000's absence), then two days home."""
    lines = []
    start = datetime(2016, 7, 1)
    rooms = ("Kitchen", "LivingRoom", "Bedroom")
    for day in range(14):
        base = start + timedelta(days=day)
        if 9 <= day < 12:
            for n, hour in enumerate(range(2, 24, 5)):
                at = base + timedelta(hours=hour, minutes=17)
                room = rooms[n % 3]
                lines += [f"{at:%Y-%m-%d %H:%M:%S} {room} {room} ON"]
                lines += [f"{at + timedelta(seconds=1):%Y-%m-%d %H:%M:%S} {room} {room} OFF"]
            continue
        for step in range(90):
            at = base + timedelta(hours=7, minutes=10 * step)
            lines.append(f"{at:%Y-%m-%d %H:%M:%S} {rooms[step % 3]} {rooms[step % 3]} ON")
    return _readings(*lines)


def test_an_absence_with_lone_blips_is_one_incident_and_its_copies_are_counted() -> None:
    """Fails if each lone blip of the empty home starts a quiet that is alarmed again (a
    second alert for the same silence), or if ``eval adl`` stops saying how many
    collapse copies were cut inside the silence already alarmed (they get no second alert,
    and counting them as plainly missed would hide why detection fell)."""
    summary = replay(_life_with_an_absence(), collapses=10, seed=3)
    [alarm] = summary["false_alarm_list"]  # without the standing alert: one more at 20:56
    assert alarm.startswith("2016-07-10")
    assert summary["collapses"]["cut_while_alerted"] > 0

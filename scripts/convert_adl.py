"""Turn public smart-home recordings into homes for ``eldercare eval adl`` (issue 20).

The detector must be developed on many homes, and real ones come in many formats. Each
converter writes one folder per home, OUTSIDE the repository (the licences allow use and
citation, not redistribution): ``data`` with ``DATE TIME SENSOR LOCATION STATE`` lines, a
``sensors.yaml`` that says each sensor's room and kind where the names don't (see
``evaluation.activity.replay.load_map``), and ``SOURCE.txt`` with the citation and caveats.

Formats:

- ``aras``: ARAS (Alemdar et al., PervasiveHealth 2013), houses A and B. ``DAY_<n>.txt``, one
  line per second, 20 binary sensor columns then one activity label per resident. The files
  carry no calendar date: day n is written as ``--start`` + n - 1 days.
- ``casas``: WSU CASAS raw logs (aruba, milan, cairo, hh1xx, …): ``DATE TIME SENSOR [HINTS…]
  STATE [ACTIVITY…]``, tab or space separated. ``--map`` (a sensors.yaml) gives the rooms,
  else a room-like hint on the line (hh1xx files carry one), else the sensor id.

    python scripts/convert_adl.py aras "ARAS/House A" /work/data-extra/aras-houseA --house A
    python scripts/convert_adl.py casas aruba/data /work/data-extra/casas-aruba --map aruba.yaml
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

Line = tuple[datetime, str, str, str]  # time, sensor, location, state


@dataclass(frozen=True, slots=True)
class Column:
    """One ARAS sensor column: a readable name, its room and its kind for the detector."""

    name: str
    room: str
    kind: str  # motion | front_door | door | bed | chair | other | ignore

    @property
    def contact(self) -> bool:
        """Door-like columns report OPEN/CLOSE, so the replay knows them for contacts."""
        return self.kind in ("door", "front_door")


def _columns(*spec: str) -> tuple[Column, ...]:
    return tuple(Column(*item.split()) for item in spec)


#: Column order and places from each house's README (ARAS 2013). Kinds are ours: photocells in
#: cupboards and the fridge open like doors; force, distance and pressure sensors on seats are
#: chairs; Ph2 is the convertible couch resident 2 sleeps on; the temperature sensor is no sign
#: of life; the tap sensor's room is not given.
ARAS_HOUSES: dict[str, tuple[Column, ...]] = {
    "A": _columns(
        "Ph1_Wardrobe Bedroom door",
        "Ph2_ConvertibleCouch Living bed",
        "Ir1_TvReceiver Living other",
        "Fo1_Couch Living chair",
        "Fo2_Couch Living chair",
        "Di3_Chair Living chair",
        "Di4_Chair Living chair",
        "Ph3_Fridge Kitchen door",
        "Ph4_KitchenDrawer Kitchen door",
        "Ph5_Wardrobe Bedroom door",
        "Ph6_BathroomCabinet Bathroom door",
        "Co1_HouseDoor Hall front_door",
        "Co2_BathroomDoor Bathroom door",
        "Co3_ShowerCabinetDoor Bathroom door",
        "So1_HallSonar Hall motion",
        "So2_KitchenSonar Kitchen motion",
        "Di1_Tap Other other",
        "Di2_WaterCloset Bathroom other",
        "Te1_Temperature Kitchen ignore",
        "Fo3_Bed Bedroom bed",
    ),
    "B": _columns(
        "co1_KitchenCupboard Kitchen door",
        "co2_KitchenCupboard Kitchen door",
        "co3_HouseDoor Hall front_door",
        "co4_WardrobeDoor Bedroom door",
        "co5_WardrobeDoor Bedroom door",
        "co6_ShowerCabinetDoor Bathroom door",
        "di2_Tap Other other",
        "fo1_Chair Living chair",
        "fo2_Chair Living chair",
        "fo3_Chair Living chair",
        "ph1_Fridge Kitchen door",
        "ph2_KitchenDrawer Kitchen door",
        "pr1_Couch Living chair",
        "pr2_Couch Living chair",
        "pr3_Bed Bedroom bed",
        "pr4_Bed Bedroom bed",
        "pr5_Armchair Living chair",
        "so1_BathroomDoorSonar Bathroom motion",
        "so2_KitchenSonar Kitchen motion",
        "so3_ClosetSonar Bedroom motion",
    ),
}

ARAS_SOURCE = """\
Source: ARAS Human Activity Datasets, House {house} (H. Alemdar, H. Ertan, O. D. Incel, C. Ersoy,
"ARAS Human Activity Datasets in Multiple Homes with Multiple Residents", PervasiveHealth 2013;
https://www.cmpe.boun.edu.tr/aras/). Cite the paper; free for research, do not redistribute.
Converted by scripts/convert_adl.py (aras) from the 30 DAY_n.txt files.
Residents: TWO (resident 1 and resident 2 live together): a "second person" home, not a person
living alone; one person's stillness is hidden by the other's activity.
Sensors: 20 binary sensors (contacts, photocells, force/pressure, distance, sonar, IR, one
temperature) at one-second resolution; no PIR motion; rooms and kinds in sensors.yaml.
Dates: the files carry none. Day n is written as {start} + n - 1 days (weekdays are not real).
States: a column's 1 is written ON (OPEN for contacts and cupboard photocells). Which way a
contact reads is not documented: house A's bathroom door reads 1 almost only while someone
is toileting or showering (closed behind them?); either way both edges are activity.
Labels (going out, sleeping, …) are dropped: a detector must not read them.
Days: {days}; events: {events}.
"""

CASAS_SOURCE = """\
Source: WSU CASAS raw log {log} (D. Cook et al., "CASAS: A smart home in a box", IEEE Computer
46(7), 2013; casas.wsu.edu). Cite CASAS; do not redistribute. Converted by
scripts/convert_adl.py (casas). Residents, layout and caveats: see the dataset's own README.
Days: {days}; events: {events}.
"""


def _stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")


def aras_lines(
    days: Iterable[Iterable[str]], columns: Sequence[Column], start: datetime
) -> Iterator[Line]:
    """State changes of the per-second ARAS columns; a column already on at 00:00:00 of the
    first day is reported on then. Days follow each other without a gap."""
    previous = [0] * len(columns)
    for day, rows in enumerate(days):
        midnight = start + timedelta(days=day)
        for second, row in enumerate(rows):
            values = row.split()
            if not values:
                continue
            for index, column in enumerate(columns):
                value = int(values[index])
                if value == previous[index]:
                    continue
                previous[index] = value
                states = ("CLOSE", "OPEN") if column.contact else ("OFF", "ON")
                ts = midnight + timedelta(seconds=second)
                yield ts, column.name, column.room, states[value]


def aras_day_files(folder: Path) -> list[Path]:
    """DAY_1 … DAY_30 in day order (not name order, where DAY_10 sorts before DAY_2)."""
    files = [p for p in folder.glob("DAY_*.txt") if p.stem.split("_")[1].isdigit()]
    return sorted(files, key=lambda p: int(p.stem.split("_")[1]))


def sensors_map(columns: Sequence[Column]) -> dict[str, dict[str, dict[str, str]]]:
    return {"sensors": {c.name: {"room": c.room, "kind": c.kind} for c in columns}}


_STATE = re.compile(r"^(ON|OFF|OPEN|CLOSE|CLOSED)(?:[0-9]*|C)?$", re.IGNORECASE)
_IGNORED_HINTS = {"IGNORE", ""}


def casas_lines(lines: Iterable[str], rooms: dict[str, str]) -> Iterator[Line]:
    """Sensor events of a CASAS raw log. Numeric readings (temperature, light level, battery)
    are dropped: the replay does not read them. Glitched states such as ``OFF5`` or ``ONc``
    (seen in tulum and aruba) keep their word; annotations after the state are dropped."""
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        try:
            ts = datetime.fromisoformat(f"{fields[0]}T{fields[1]}")
        except ValueError:
            continue
        sensor, rest = fields[2], fields[3:]
        position = next((i for i, token in enumerate(rest) if _STATE.match(token)), None)
        if position is None:
            continue
        state = _STATE.match(rest[position]).group(1).upper()  # type: ignore[union-attr]
        hint = next((h for h in rest[:position] if h.upper() not in _IGNORED_HINTS), sensor)
        yield ts, sensor, rooms.get(sensor, hint), "CLOSE" if state == "CLOSED" else state


def write_home(
    out: Path, lines: Iterable[Line], mapping: dict | None, source: str, **fields: str
) -> int:
    """Write ``data`` (sorted by time), ``sensors.yaml`` and ``SOURCE.txt``; returns the number
    of events. ``source`` is formatted with ``fields`` and the counted ``events`` and ``days``."""
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(lines, key=lambda line: line[0])
    with (out / "data").open("w", encoding="utf-8") as handle:
        for ts, sensor, location, state in ordered:
            handle.write(f"{_stamp(ts)} {sensor} {location} {state}\n")
    if mapping is not None:
        (out / "sensors.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    days = len({line[0].date() for line in ordered})
    (out / "SOURCE.txt").write_text(source.format(events=len(ordered), days=days, **fields))
    return len(ordered)


def _aras(args: argparse.Namespace) -> int:
    columns = ARAS_HOUSES[args.house]
    start = datetime.fromisoformat(args.start)
    files = aras_day_files(args.source)
    if not files:
        sys.exit(f"no DAY_<n>.txt files in {args.source}")
    days = (path.read_text().splitlines() for path in files)
    lines = aras_lines(days, columns, start)
    mapping = sensors_map(columns)
    return write_home(args.out, lines, mapping, ARAS_SOURCE, house=args.house, start=args.start)


def _casas(args: argparse.Namespace) -> int:
    mapping = yaml.safe_load(args.map.read_text()) if args.map else None
    rooms = {
        name: str(entry["room"])
        for name, entry in ((mapping or {}).get("sensors") or {}).items()
        if entry and entry.get("room")
    }
    with args.source.open(encoding="utf-8", errors="replace") as handle:
        lines = casas_lines(handle, rooms)
        return write_home(args.out, lines, mapping, CASAS_SOURCE, log=args.source.name)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    formats = parser.add_subparsers(dest="format", required=True)
    aras = formats.add_parser("aras", help="ARAS house folder of DAY_<n>.txt files")
    aras.add_argument("source", type=Path)
    aras.add_argument("out", type=Path)
    aras.add_argument("--house", choices=sorted(ARAS_HOUSES), required=True)
    aras.add_argument("--start", default="2012-01-02", help="date written for DAY_1")
    aras.set_defaults(run=_aras)
    casas = formats.add_parser("casas", help="CASAS raw log (aruba/data, hh101.rawdata.txt, …)")
    casas.add_argument("source", type=Path)
    casas.add_argument("out", type=Path)
    casas.add_argument("--map", type=Path, help="sensors.yaml with each sensor's room and kind")
    casas.set_defaults(run=_casas)
    args = parser.parse_args(argv)
    print(f"{args.out}: {args.run(args)} events")


if __name__ == "__main__":
    main()

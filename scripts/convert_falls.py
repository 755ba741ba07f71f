"""Turn other public fall data sets into SisFall-format folders for ``eldercare eval falls``.

Issue 15 asks for fall data from other devices and placements, and for leave-one-dataset-out
figures. Rather than teach every lab tool a new format, each converter writes what
``evaluation.falls.sisfall`` already reads: one folder per subject, one gzipped file per
trial named ``<code>_<subject>_R<nn>.txt.gz``, ``x,y,z;`` lines of ADXL345 counts
(g × 256) at 200 Hz. Then ``eval falls``, ``train falls``, ``--cv`` and the daily-stream
benchmark take the new set unchanged, and a folder holding both sets (``cp -rs``: symlinked
files; a symlinked folder is not descended into) is the combined set. The output goes
OUTSIDE the repository (the licences allow research use and citation, not redistribution),
with ``SOURCE.txt`` saying where it came from.

Formats:

- ``mobifall``: MobiFall v2.0 (Vavoulas et al., BHI 2014; the MobiAct paper, ICT4AWE 2016):
  a Samsung Galaxy S3 in the subject's trouser pocket, ``<CODE>_acc_<subject>_<trial>.txt``
  with a ``#`` header, ``@DATA``, then ``timestamp(ns), x, y, z`` in m/s² (gravity included),
  ~87–99 Hz with irregular spacing and stalls up to ~1 s. Its accelerometer saturates at
  about ±2 g per axis, so impacts are clipped. Activity codes become SisFall-style codes
  numbered above SisFall's own (``MOBIFALL_CODES``), subjects ``MFnn``.

The irregular samples are put on a 200 Hz grid by linear interpolation, so the lab tools'
block means give 50 or 20 Hz as from any device; a 200 Hz replay of a converted set holds
no more than the phone measured (≤ ~100 Hz), so figures are reported at 50 Hz and below.

- ``hapt``: UCI HAPT (Reyes-Ortiz et al., Neurocomputing 2016; a phone on the waist, 50 Hz,
  in g; read by ``scripts/convert_streams.py``'s reader). It has no falls: each labelled
  activity of each run becomes one activity trial (``HAPT_CODES``: D41–D52 in HAPT's order),
  ``--context`` seconds of the run kept on each side (getting up from lying ends, in the
  labels, before the body's peak does), subjects ``HAnn``, so SisFall's training can see
  another device's daily life as non-falls.

- ``fallalld``: FallAllD (Saleh, Abbas, Le Bouquin Jeannès, IEEE Sensors J. 2021): 15
  volunteers wearing one LSM9DS1 device on the **waist** (also neck and wrist; ``--device``
  picks one), 20 s trials ``S<ss>_D<d>_A<aaa>_T<tt>_A.dat`` of ``x,y,z`` counts (0.244 mg per
  count, ±8 g) at 238 Hz. It has other people's (simulated) low-energy falls of old age:
  fainting while walking (A111–A114), falling while trying to sit down (A115–A120),
  fainting from a chair (A129–A131) and fainting from standing (A132–A135). Falls become
  ``F61``–``F95`` (FallAllD's number − 40), activities ``D56``–``D99`` (number + 55), subjects
  ``FAnn``; 238 Hz goes onto the 200 Hz grid by linear interpolation.

    python scripts/convert_falls.py mobifall MobiFall_Dataset_v2.0 /work/data-extra/mobifall-sisfmt
    python scripts/convert_falls.py hapt HAPT/RawData /work/data-extra/hapt-sisfmt [--context 3]
    python scripts/convert_falls.py fallalld FallAllD /work/data-extra/fallalld-sisfmt [--device 3]
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.falls.sisfall import G_PER_COUNT, SISFALL_RATE_HZ

# run as a file, this folder is not a package on the path: HAPT's reader is its neighbour's
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.convert_streams import HAPT_ACTIVITIES, read_hapt, read_hapt_labels

STANDARD_GRAVITY = 9.80665

#: MobiFall's codes as SisFall-style codes: falls F21–F24, activities D21–D29 (SisFall uses
#: F01–F15 and D01–D19, so a combined folder keeps every code apart).
MOBIFALL_CODES = {
    "FOL": "F21",  # forward-lying: forward from standing, hands dampen the fall
    "FKL": "F22",  # front-knees-lying: forward from standing, first impact on the knees
    "BSC": "F23",  # back-sitting-chair: backward while trying to sit on a chair
    "SDL": "F24",  # sideward-lying: sideways from standing, bending the legs
    "STD": "D21",  # standing with subtle movements, 5 min
    "WAL": "D22",  # normal walking, 5 min
    "JOG": "D23",  # jogging, 30 s
    "JUM": "D24",  # continuous jumping, 30 s
    "STU": "D25",  # 10 stairs up
    "STN": "D26",  # 10 stairs down
    "SCH": "D27",  # sitting on a chair
    "CSI": "D28",  # stepping into a car
    "CSO": "D29",  # stepping out of a car
}

#: HAPT's twelve activities (its labels 1–12, in order) as activity codes D41–D52.
HAPT_CODES = {name: f"D{41 + i}" for i, name in enumerate(HAPT_ACTIVITIES)}

#: FallAllD's accelerometer: LSM9DS1 at 238 Hz, 0.244 mg a count (its own MATLAB example).
FALLALLD_RATE_HZ = 238.0
FALLALLD_G_PER_COUNT = 0.000244
FALLALLD_DEVICES = {1: "neck", 2: "wrist", 3: "waist"}


def fallalld_code(activity: int) -> str:
    """FallAllD's activity number as a SisFall-style code kept apart from every other set's:
    falls 101–135 → F61–F95, activities 1–44 → D56–D99."""
    if 101 <= activity <= 135:
        return f"F{activity - 40}"
    if 1 <= activity <= 44:
        return f"D{activity + 55}"
    raise ConversionError(f"unknown FallAllD activity {activity}")


_FALLALLD_NAME = re.compile(
    r"^S(?P<subject>\d{2})_D(?P<device>\d)_A(?P<activity>\d{3})_T(?P<trial>\d{2})_A\.dat$"
)
_MOBIFALL_NAME = re.compile(r"^(?P<code>[A-Z]{3})_acc_(?P<subject>\d+)_(?P<trial>\d+)\.txt$")


class ConversionError(ValueError):
    """A source file that does not hold what its format promises."""


def read_mobifall(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Times in seconds (sorted, unique) and acceleration in g, shape (n, 3), of one file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    _, marker, body = text.partition("@DATA")
    if not marker:
        raise ConversionError(f"{path}: no @DATA line")
    try:
        values = np.array(
            [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
        )
    except ValueError as error:
        raise ConversionError(f"{path}: {error}") from None
    if values.ndim != 2 or values.shape[1] != 4 or len(values) < 2:
        raise ConversionError(f"{path}: expected at least two 'timestamp, x, y, z' lines")
    times, first = np.unique(values[:, 0] * 1e-9, return_index=True)
    return times, values[first, 1:] / STANDARD_GRAVITY


def on_grid(times: np.ndarray, samples: np.ndarray, rate_hz: float) -> np.ndarray:
    """``samples`` taken at irregular ``times``, linearly interpolated every 1/``rate_hz`` s."""
    grid = times[0] + np.arange(int((times[-1] - times[0]) * rate_hz) + 1) / rate_hz
    return np.column_stack([np.interp(grid, times, samples[:, axis]) for axis in range(3)])


def write_sisfall(path: Path, samples_g: np.ndarray) -> None:
    """``samples_g`` as a gzipped SisFall file: ``x,y,z;`` lines of ADXL345 counts."""
    counts = np.rint(samples_g / G_PER_COUNT).astype(np.int64)
    text = "".join(f"{x},{y},{z};\n" for x, y, z in counts)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="ascii") as handle:
        handle.write(text)


def write_trial(
    out: Path, subject: str, code: str, trial: int, times: np.ndarray, samples: np.ndarray
) -> None:
    """One trial as ``<out>/<subject>/<code>_<subject>_R<trial>.txt.gz`` on the 200 Hz grid."""
    target = out / subject / f"{code}_{subject}_R{trial:02d}.txt.gz"
    write_sisfall(target, on_grid(times, samples, SISFALL_RATE_HZ))


def convert_mobifall(source: Path, out: Path) -> int:
    """Every accelerometer file below ``source`` into ``out``; the number of trials written."""
    written = 0
    for path in sorted(source.rglob("*_acc_*.txt")):
        match = _MOBIFALL_NAME.match(path.name)
        if not match:
            continue
        code = MOBIFALL_CODES.get(match["code"])
        if code is None:
            raise ConversionError(f"{path}: unknown activity code {match['code']}")
        subject = f"MF{int(match['subject']):02d}"
        times, samples = read_mobifall(path)
        write_trial(out, subject, code, int(match["trial"]), times, samples)
        written += 1
    (out / "SOURCE.txt").write_text(
        "MobiFall Dataset v2.0 (Vavoulas, Pediaditis, Spanakis, Tsiknakis, BHI 2014), "
        "accelerometer files only,\nconverted by scripts/convert_falls.py mobifall: "
        "m/s^2 -> g, irregular ~87-99 Hz -> 200 Hz by linear\ninterpolation, codes: "
        + ", ".join(f"{k}={v}" for k, v in MOBIFALL_CODES.items())
        + ".\nSmartphone in a trouser pocket; its accelerometer clips at about 2 g per axis.\n",
        encoding="utf-8",
    )
    return written


def read_fallalld(path: Path) -> np.ndarray:
    """One FallAllD accelerometer file in g, shape (n, 3), at ``FALLALLD_RATE_HZ``."""
    try:
        counts = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as error:
        raise ConversionError(f"{path}: {error}") from None
    if counts.shape[1] != 3 or len(counts) < 2:
        raise ConversionError(f"{path}: expected at least two 'x,y,z' lines")
    return counts * FALLALLD_G_PER_COUNT


def convert_fallalld(source: Path, out: Path, device: int = 3) -> int:
    """Every accelerometer file of ``device`` below ``source`` into ``out``; trials written."""
    written = 0
    for path in sorted(source.rglob("*_A.dat")):
        match = _FALLALLD_NAME.match(path.name)
        if not match or int(match["device"]) != device:
            continue
        code = fallalld_code(int(match["activity"]))
        subject = f"FA{match['subject']}"
        samples = read_fallalld(path)
        times = np.arange(len(samples)) / FALLALLD_RATE_HZ
        write_trial(out, subject, code, int(match["trial"]), times, samples)
        written += 1
    (out / "SOURCE.txt").write_text(
        "FallAllD (Saleh, Abbas, Le Bouquin Jeannes, IEEE Sensors Journal 2021, "
        "doi:10.1109/JSEN.2020.3018335), accelerometer files of the "
        f"{FALLALLD_DEVICES.get(device, device)} device only,\nconverted by "
        f"scripts/convert_falls.py fallalld --device {device}: counts x 0.244 mg -> g, "
        "238 Hz -> 200 Hz by linear interpolation,\ncodes: falls A101-A135 -> F61-F95 "
        "(number - 40), activities A001-A044 -> D56-D99 (number + 55).\n",
        encoding="utf-8",
    )
    return written


def convert_hapt(source: Path, out: Path, context_s: float = 0.0) -> int:
    """Every labelled activity of every HAPT run in ``source`` (with ``labels.txt``) as a
    trial in ``out``, ``context_s`` of the run on each side; the number of trials written."""
    labels = read_hapt_labels(source / "labels.txt")
    numbers: dict[tuple[str, str], int] = {}
    written = 0
    for path in sorted(source.glob("acc_exp*_user*.txt")):
        subject = f"HA{int(path.stem.rpartition('user')[2]):02d}"
        times, samples = read_hapt(path, labels.get(path.stem, []), all_rows=True)
        for activity in labels[path.stem]:
            keep = (times >= activity.start_s - context_s) & (times < activity.end_s + context_s)
            code = HAPT_CODES[activity.name]
            number = numbers[subject, code] = numbers.get((subject, code), 0) + 1
            write_trial(out, subject, code, number, times[keep], samples[keep])
            written += 1
    (out / "SOURCE.txt").write_text(
        "UCI HAPT, Smartphone-Based Recognition of Human Activities and Postural Transitions "
        "(Reyes-Ortiz, Oneto, Sama, Parra, Anguita, Neurocomputing 2016),\nconverted by "
        f"scripts/convert_falls.py hapt --context {context_s:g}: one trial per labelled "
        "activity, 50 Hz -> 200 Hz by linear\ninterpolation, codes: "
        + ", ".join(f"{k}={v}" for k, v in HAPT_CODES.items())
        + ".\nSmartphone on the waist. No falls. Commercial use is prohibited.\n",
        encoding="utf-8",
    )
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=["mobifall", "hapt", "fallalld"])
    parser.add_argument("source", type=Path, help="the data set's folder as published")
    parser.add_argument("out", type=Path, help="SisFall-format folder to write (not the repo)")
    parser.add_argument(
        "--context", type=float, default=0.0, help="hapt: seconds kept on each side of a label"
    )
    parser.add_argument(
        "--device", type=int, default=3, help="fallalld: 1 neck, 2 wrist, 3 waist (default)"
    )
    args = parser.parse_args(argv)
    if args.format == "hapt":
        count = convert_hapt(args.source, args.out, args.context)
    elif args.format == "fallalld":
        count = convert_fallalld(args.source, args.out, args.device)
    else:
        count = convert_mobifall(args.source, args.out)
    print(f"{count} trials written to {args.out}")


if __name__ == "__main__":
    main()

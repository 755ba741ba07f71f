"""Turn long recordings of daily life into ``t,x,y,z`` streams for ``eval falls --stream``.

Issue 15 asks for suspicions and alerts per hour of wear on long recordings of a trunk or
waist sensor, not on short lab trials. ``eval falls --stream`` replays any ``t,x,y,z``
CSV (seconds, g) through the service's own rule; each converter here writes one such file
per recording of a published data set. The output goes OUTSIDE the repository (the
licences allow research use with citation, not redistribution), with ``SOURCE.txt``.

Formats:

- ``harth``: HARTH (Logacjov et al., Sensors 2021; 22 adults, ~2 h of free living each) and
  HAR70+ (Ustad et al., Sensors 2023; 18 people aged 70-95, ~40 min of semi-structured free
  living): one CSV per subject, header ``timestamp,back_x,back_y,back_z,thigh_x,...,label``,
  Axivity AX3 accelerometers at 50 Hz in g. The lower-back sensor is written (the thigh is
  not where a pendant or belt clip sits); timestamps become seconds from the first sample.
- ``daphnet``: Daphnet Freezing of Gait (Bächlin et al., IEEE TITB 2010; people with
  Parkinson's disease, lab walking protocol with an ADL task): space-separated rows of time
  (ms), ankle, thigh and trunk (hip) acceleration (forward, vertical, lateral, mg) and an
  annotation, 64 Hz. The hip sensor is written in g. Its times are whole milliseconds
  (15, 31, 46, ...), so they are put back on the 64 Hz grid. Rows outside the protocol
  (annotation 0: sensors being put on, debriefing) are left out unless ``--all-rows``, and
  so are rows where the hip sensor read exactly 0, 0, 0 (no reading: gravity is never 0).
- ``hapt``: UCI "Smartphone-Based Recognition of Human Activities and Postural Transitions"
  (HAPT, Reyes-Ortiz et al., Neurocomputing 2016; 30 adults aged 19-48, a Samsung Galaxy S II
  on the waist): ``RawData/acc_expNN_userMM.txt``, space-separated x y z in g, one row per
  sample at 50 Hz, no time column; ``RawData/labels.txt`` gives, per experiment, the activity
  (1-12: walking, stairs up and down, sitting, standing, lying and the six transitions between
  the static postures, stand-to-lie included) from its first to its last sample. Only the
  protocol is written (the first label's first sample to the last label's last; before and
  after, the phone is being put on and taken off) unless ``--all-rows``, and the labels go to
  ``ACTIVITIES.txt`` (CSV: stream, start and end seconds, activity; not ``.csv``, which
  ``--stream`` would read as a stream) so that suspicions can be put against what was done.
- ``wisdm``: WISDM Smartphone and Smartwatch Activity and Biometrics Dataset (Weiss, Fordham
  University 2019; 51 adults, 18 activities of 3 min each, "a smartphone in their pocket"):
  ``raw/phone/accel/data_SSSS_accel_phone.txt``, rows ``subject,activity,timestamp,x,y,z;``
  (activity a letter A-S, timestamp in ns, acceleration in m/s^2, nominally 20 Hz; some
  phones ran at 25 or 50 Hz). Each activity is its own stream (``SSSS_A_walking.csv``): the
  activities were recorded minutes apart, and one subject's phone changed rate between them.

- ``casale``: "Activity Recognition from a Single Chest-Mounted Accelerometer" (Casale,
  Pujol and Radeva, Personal and Ubiquitous Computing 16(5) 2012; UCI; 15 people, ~40 min
  each of working at a computer, standing, walking, stairs, talking): ``N.csv``, rows
  ``sequential number,x,y,z,label`` at 52 Hz, *uncalibrated* 12-bit counts (0-4095); from
  100000 on the number is written as ``1e+05``, so the row counts the samples. Each
  person is put in g by a fit of their own quasi-static half seconds (nothing moving more
  than 8 counts, nothing at the ends of the range) to a sphere: an offset per axis and one
  gain, so that gravity reads 1 g. The fit is only determined when the chest took several
  postures; a person whose still moments span less than 20 degrees of tilt is refused
  rather than guessed. The labels go to ``ACTIVITIES.txt`` as for HAPT.

``--rate HZ`` writes a lower rate, as a device at that rate would send it to the service:
the service's own ``StreamResampler`` (box average over the new period, then linear
interpolation), each gap-free run on its own so that no movement is invented across a gap.

    python scripts/convert_streams.py daphnet dataset_fog_release/dataset /work/data-extra/daphnet
    python scripts/convert_streams.py harth har70plus /work/data-extra/har70-20hz --rate 20
    python scripts/convert_streams.py hapt HAPT/RawData /work/data-extra/hapt-streams
    python scripts/convert_streams.py wisdm wisdm-dataset/raw/phone/accel /work/data-extra/wisdm
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detector.falls.resample import StreamResampler

#: Daphnet's sensors sample at 64 Hz; the files hold the times truncated to whole ms.
DAPHNET_RATE_HZ = 64.0
#: Columns of the hip ("trunk") sensor and of the annotation in a Daphnet row.
_DAPHNET_HIP = slice(7, 10)
_DAPHNET_ANNOTATION = 10
_HARTH_AXES = ("back_x", "back_y", "back_z")
#: Casale's chest sensor: 52 Hz, 12-bit counts; the quasi-static windows that calibrate it.
CASALE_RATE_HZ = 52.0
CASALE_ACTIVITIES = (
    "unlabelled",
    "working_at_computer",
    "standing_up_walking_stairs",
    "standing",
    "walking",
    "stairs",
    "walking_and_talking",
    "talking_while_standing",
)
_CASALE_STILL_COUNTS = 8.0  # per-axis standard deviation of a still half second (~0.02 g)
_CASALE_FULL_SCALE = (5, 4090)  # samples at or past these counts are clipped
_CASALE_MIN_TILT_DEG = 20.0  # spread of the still postures that determines the sphere
#: m/s^2 in one g: WISDM's phones report m/s^2.
STANDARD_GRAVITY = 9.80665
#: WISDM's activity letters (its ``activity_key.txt``; there is no N).
WISDM_ACTIVITIES = {
    "A": "walking",
    "B": "jogging",
    "C": "stairs",
    "D": "sitting",
    "E": "standing",
    "F": "typing",
    "G": "teeth",
    "H": "soup",
    "I": "chips",
    "J": "pasta",
    "K": "drinking",
    "L": "sandwich",
    "M": "kicking",
    "O": "catch",
    "P": "dribbling",
    "Q": "writing",
    "R": "clapping",
    "S": "folding",
}
#: HAPT's phone samples at 50 Hz; its labels count samples from 1, both ends included.
HAPT_RATE_HZ = 50.0
HAPT_ACTIVITIES = (
    "walking",
    "walking_upstairs",
    "walking_downstairs",
    "sitting",
    "standing",
    "lying",
    "stand_to_sit",
    "sit_to_stand",
    "sit_to_lie",
    "lie_to_sit",
    "stand_to_lie",
    "lie_to_stand",
)


class ConversionError(ValueError):
    """A source file that does not hold what its format promises."""


class CalibrationError(ConversionError):
    """A recording that could be put in g only by guessing: left out, and said so."""


def read_harth(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Times (s from the first sample) and the lower-back samples (n, 3, g) of one CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"timestamp", *_HARTH_AXES} - set(reader.fieldnames or ())
        if missing:
            raise ConversionError(f"{path}: no column {', '.join(sorted(missing))}")
        rows = [(row["timestamp"], *(row[axis] for axis in _HARTH_AXES)) for row in reader]
    if len(rows) < 2:
        raise ConversionError(f"{path}: fewer than two samples")
    try:
        stamps = np.array([row[0] for row in rows], dtype="datetime64[ns]")
        samples = np.array([row[1:] for row in rows], dtype=np.float64)
    except ValueError as error:
        raise ConversionError(f"{path}: {error}") from None
    times = (stamps - stamps[0]).astype(np.int64) * 1e-9
    return _ordered(path, times, samples)


def read_daphnet(path: Path, all_rows: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Times (s, on the 64 Hz grid) and hip samples (n, 3, g) of one Daphnet run."""
    table = _table(path, 11)
    hip = table[:, _DAPHNET_HIP] / 1000.0
    keep = ~np.all(hip == 0.0, axis=1)
    if not all_rows:
        keep &= table[:, _DAPHNET_ANNOTATION] != 0
    times = np.round(table[keep, 0] / 1000.0 * DAPHNET_RATE_HZ) / DAPHNET_RATE_HZ
    return _ordered(path, times, hip[keep])


@dataclass(frozen=True)
class Activity:
    """What a recording's wearer was doing from ``start_s`` to ``end_s`` (stream seconds)."""

    start_s: float
    end_s: float
    name: str


def read_hapt_labels(path: Path) -> dict[str, list[Activity]]:
    """HAPT's ``labels.txt``: each ``acc_expNN_userMM`` recording's activities, in order."""
    table = _table(path, 5, dtype=np.int64)
    if not np.all((table[:, 2] >= 1) & (table[:, 2] <= 12)):
        raise ConversionError(f"{path}: expected experiment, user, activity 1-12, start, end")
    labels: dict[str, list[Activity]] = {}
    for experiment, user, activity, first, last in table:
        labels.setdefault(f"acc_exp{experiment:02d}_user{user:02d}", []).append(
            Activity((first - 1) / HAPT_RATE_HZ, last / HAPT_RATE_HZ, HAPT_ACTIVITIES[activity - 1])
        )
    return labels


def read_hapt(
    path: Path, activities: Sequence[Activity], all_rows: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Times (s from the recording's first sample) and waist samples (n, 3, g) of one run."""
    samples = _table(path, 3)
    if not activities:
        raise ConversionError(f"{path}: labels.txt has no activity for {path.stem}")
    times = np.arange(len(samples)) / HAPT_RATE_HZ
    keep = np.ones(len(samples), dtype=bool)
    if not all_rows:
        keep = (times >= activities[0].start_s) & (times < activities[-1].end_s)
    return _ordered(path, times[keep], samples[keep])


def read_casale(path: Path) -> tuple[np.ndarray, np.ndarray, list[Activity]]:
    """Times (s), chest samples in g (self-calibrated, n x 3) and labelled runs of one person."""
    table = _table(path, 5, delimiter=",")
    if not np.all(np.isin(table[:, 4], range(len(CASALE_ACTIVITIES)))):
        raise ConversionError(f"{path}: expected sequential number,x,y,z,label 0-7 rows")
    # The sequential number is written with 3 significant digits from 100000 on ("1e+05",
    # "1.38e+05"), so the row is the sample's number; below that the two must agree.
    rows = np.arange(len(table))
    exact = table[:, 0] < 99_999.5
    if not np.array_equal(table[exact, 0], rows[exact]):
        raise ConversionError(f"{path}: sequential numbers skip or repeat")
    times, counts, labels = rows / CASALE_RATE_HZ, table[:, 1:4], table[:, 4].astype(int)
    offset, gain = _sphere(path, counts)
    runs = np.flatnonzero(np.diff(labels)) + 1
    activities = [
        Activity(
            float(times[a]), float(times[b - 1]) + 1 / CASALE_RATE_HZ, CASALE_ACTIVITIES[labels[a]]
        )
        for a, b in zip(np.r_[0, runs], np.r_[runs, len(labels)], strict=True)
        if labels[a]
    ]
    return times, (counts - offset) / gain, activities


def _sphere(path: Path, counts: np.ndarray) -> tuple[np.ndarray, float]:
    """Offset (3 counts) and gain (counts per g) that put the still half seconds on 1 g."""
    size = round(CASALE_RATE_HZ / 2)
    windows = counts[: len(counts) // size * size].reshape(-1, size, 3)
    low, high = _CASALE_FULL_SCALE
    still = (
        (windows.std(axis=1).max(axis=1) < _CASALE_STILL_COUNTS)
        & (windows.min(axis=(1, 2)) > low)
        & (windows.max(axis=(1, 2)) < high)
    )
    means = windows[still].mean(axis=1)
    if len(means) < 10:
        raise CalibrationError(f"{path}: {len(means)} still half seconds, too few to calibrate")
    # |m - o|^2 = g^2 is linear in (o, g^2 - |o|^2): an algebraic fit starts the geometric one.
    design = np.column_stack([2 * means, np.ones(len(means))])
    solution = np.linalg.lstsq(design, (means**2).sum(axis=1), rcond=None)[0]
    offset = solution[:3]
    gain = float(np.sqrt(max(solution[3] + offset @ offset, 1.0)))
    for _ in range(50):  # Gauss-Newton on |m - o| / g - 1, the error in g itself
        arms = means - offset
        lengths = np.linalg.norm(arms, axis=1)
        jacobian = np.column_stack([-arms / (gain * lengths[:, None]), -lengths / gain**2])
        step = np.linalg.lstsq(jacobian, -(lengths / gain - 1.0), rcond=None)[0]
        offset, gain = offset + step[:3], gain + float(step[3])
    directions = (means - offset) / np.linalg.norm(means - offset, axis=1, keepdims=True)
    centre = directions.mean(axis=0) / np.linalg.norm(directions.mean(axis=0))
    spread = float(np.percentile(np.degrees(np.arccos(np.clip(directions @ centre, -1, 1))), 95))
    if not (np.isfinite(gain) and spread >= _CASALE_MIN_TILT_DEG):  # NaN: the fit diverged
        raise CalibrationError(
            f"{path}: the still postures span {spread:.0f} degrees of tilt, "
            f"under {_CASALE_MIN_TILT_DEG:g}: offset and gain are not determined"
        )
    return offset, gain


def read_wisdm(path: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Each activity of one WISDM file: its name, times (s from its first sample), samples (g)."""
    rows: dict[str, list[list[str]]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.strip().rstrip(";").split(",")
            if len(fields) != 6 or fields[1] not in WISDM_ACTIVITIES:
                if line.strip():
                    raise ConversionError(f"{path}: not subject,activity,ns,x,y,z: {line!r}")
                continue
            rows.setdefault(fields[1], []).append(fields)
    if not rows:
        raise ConversionError(f"{path}: no samples")
    recordings = []
    for code, activity in sorted(rows.items()):
        try:
            stamps = np.array([row[2] for row in activity], dtype=np.int64)
            samples = np.array([row[3:] for row in activity], dtype=np.float64)
        except ValueError as error:
            raise ConversionError(f"{path}: {error}") from None
        times, samples = _ordered(path, (stamps - stamps.min()) * 1e-9, samples / STANDARD_GRAVITY)
        name = f"{activity[0][0]}_{code}_{WISDM_ACTIVITIES[code]}"
        recordings.append((name, times, samples))
    return recordings


def _table(
    path: Path, columns: int, delimiter: str | None = None, dtype: type = np.float64
) -> np.ndarray:
    """A whitespace- (or ``delimiter``-) separated table of numbers with ``columns`` columns."""
    try:
        table = np.loadtxt(path, ndmin=2, delimiter=delimiter, dtype=dtype)
    except ValueError as error:
        raise ConversionError(f"{path}: {error}") from None
    if table.shape[1] != columns:
        raise ConversionError(f"{path}: expected {columns} columns, got {table.shape[1]}")
    return table


def _ordered(path: Path, times: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples with strictly increasing times (a repeated time keeps its first sample)."""
    times, first = np.unique(times, return_index=True)
    if len(times) < 2:
        raise ConversionError(f"{path}: fewer than two samples to write")
    return times, samples[first]


def at_rate(
    times: np.ndarray, samples: np.ndarray, rate_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """The stream as a ``rate_hz`` device would send it; gaps stay gaps."""
    period = float(np.median(np.diff(times)))
    source_hz = round(1.0 / period, 3)
    if rate_hz > source_hz:
        raise ConversionError(f"{rate_hz:g} Hz is above the recorded {source_hz:g} Hz")
    breaks = np.flatnonzero(np.diff(times) > 1.5 * period) + 1
    out_times, out_samples = [], []
    for run_times, run_samples in zip(
        np.split(times, breaks), np.split(samples, breaks), strict=True
    ):
        resampler = StreamResampler(rate_hz)
        resampled = resampler.push(float(run_times[0]), source_hz, run_samples)
        first = resampler.emitted - len(resampled)
        out_times.append(run_times[0] + (first + np.arange(len(resampled))) / rate_hz)
        out_samples.append(resampled)
    return np.concatenate(out_times), np.concatenate(out_samples)


def write_stream(path: Path, times: np.ndarray, samples: np.ndarray, source: str) -> None:
    """A ``t,x,y,z`` CSV that ``eval falls --stream`` reads (header first, then a comment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(
        path,
        np.column_stack([times, samples]),
        delimiter=",",
        fmt=("%.6f", "%.6f", "%.6f", "%.6f"),
        header=f"t,x,y,z\n# {source}",
        comments="",
    )


_SOURCES = {
    "harth": "HARTH (Logacjov et al., Sensors 2021, doi:10.3390/s21237853) or HAR70+ (Ustad "
    "et al., Sensors 2023, doi:10.3390/s23052368), CC BY 4.0; lower-back Axivity AX3, 50 Hz, g",
    "daphnet": "Daphnet Freezing of Gait (Bachlin et al., IEEE TITB 14(2) 2010), CC BY 4.0; hip "
    "sensor, 64 Hz, mg -> g",
    "wisdm": "WISDM Smartphone and Smartwatch Activity and Biometrics Dataset (Weiss, Fordham "
    "University 2019), UCI Machine Learning Repository; phone in a pocket, ~20 Hz, m/s^2 -> g",
    "casale": "Activity Recognition from a Single Chest-Mounted Accelerometer (Casale, Pujol "
    "and Radeva, Pers Ubiquit Comput 16(5) 2012), UCI Machine Learning Repository; chest, "
    "52 Hz, uncalibrated counts -> g by a per-person sphere fit of its still moments",
    "hapt": "HAPT, Smartphone-Based Recognition of Human Activities and Postural Transitions "
    "(Reyes-Ortiz et al., Transition-Aware Human Activity Recognition Using Smartphones, "
    "Neurocomputing 2015/16), UCI Machine Learning Repository, "
    "citation required, no commercial use; waist smartphone, 50 Hz, g",
}
_PATTERNS = {
    "harth": "*.csv",
    "daphnet": "S*R*.txt",
    "hapt": "acc_exp*_user*.txt",
    "casale": "*.csv",
    "wisdm": "data_*_accel_phone.txt",
}


def convert(
    fmt: str, source: Path, out: Path, rate_hz: float | None = None, all_rows: bool = False
) -> list[Path]:
    """Every recording of ``source`` (a file or a folder) as a stream in ``out``."""
    pattern = _PATTERNS[fmt]
    paths = [source] if source.is_file() else sorted(source.glob(pattern))
    if not paths:
        raise ConversionError(f"{source}: no {pattern} recordings")
    labels = read_hapt_labels(paths[0].parent / "labels.txt") if fmt == "hapt" else {}
    written: list[Path] = []
    done: dict[str, list[Activity]] = {}
    refused: list[str] = []
    for path in paths:
        try:
            recordings = _recordings(fmt, path, labels, all_rows)
        except CalibrationError as error:
            refused.append(str(error))
            continue
        for recording in recordings:
            times, samples = recording.times, recording.samples
            if rate_hz is not None:
                times, samples = at_rate(times, samples, rate_hz)
            target = out / f"{recording.name}.csv"
            write_stream(target, times, samples, f"{path.name}: {_SOURCES[fmt]}")
            written.append(target)
            done[recording.name] = recording.activities
    if not written:
        raise ConversionError(f"{source}: nothing to write; " + "; ".join(refused))
    if any(done.values()):
        _write_activities(out / "ACTIVITIES.txt", done)
    rate = f"resampled to {rate_hz:g} Hz" if rate_hz else "at the recorded rate"
    protocol = "annotation 1-2" if fmt == "daphnet" else "first to last label"
    rows = "all rows" if all_rows else f"protocol rows only ({protocol})"
    (out / "SOURCE.txt").write_text(
        f"{_SOURCES[fmt]}\nconverted by scripts/convert_streams.py {fmt}, {rate}"
        + (f", {rows}" if fmt in ("daphnet", "hapt") else "")
        + f"; {len(written)} recordings.\n"
        + "".join(f"left out: {reason}\n" for reason in refused),
        encoding="utf-8",
    )
    return written


@dataclass(frozen=True)
class Recording:
    """One stream to write: its name, times (s), samples (g) and labelled activities."""

    name: str
    times: np.ndarray
    samples: np.ndarray
    activities: list[Activity]


def _recordings(
    fmt: str, path: Path, labels: dict[str, list[Activity]], all_rows: bool
) -> list[Recording]:
    """The streams one source file holds: itself, or (WISDM) one per activity."""
    if fmt == "wisdm":
        return [Recording(name, times, samples, []) for name, times, samples in read_wisdm(path)]
    activities: list[Activity] = []
    if fmt == "harth":
        times, samples = read_harth(path)
    elif fmt == "daphnet":
        times, samples = read_daphnet(path, all_rows)
    elif fmt == "casale":
        times, samples, activities = read_casale(path)
    else:
        activities = labels.get(path.stem, [])
        times, samples = read_hapt(path, activities, all_rows)
    return [Recording(path.stem, times, samples, activities)]


def _write_activities(path: Path, labels: dict[str, list[Activity]]) -> None:
    """``stream,start_s,end_s,activity`` rows: what each stream's wearer was doing when."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["stream", "start_s", "end_s", "activity"])
        for stream, activities in labels.items():
            for a in activities:
                writer.writerow([stream, f"{a.start_s:.2f}", f"{a.end_s:.2f}", a.name])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=sorted(_SOURCES))
    parser.add_argument("source", type=Path, help="a recording, or the data set's folder")
    parser.add_argument("out", type=Path, help="folder of t,x,y,z CSVs to write (not the repo)")
    parser.add_argument("--rate", type=float, help="write this lower rate (Hz)")
    parser.add_argument(
        "--all-rows", action="store_true", help="daphnet, hapt: keep rows outside the protocol too"
    )
    args = parser.parse_args(argv)
    written = convert(args.format, args.source, args.out, args.rate, args.all_rows)
    print(f"{len(written)} streams written to {args.out} (see its SOURCE.txt)")


if __name__ == "__main__":
    main()

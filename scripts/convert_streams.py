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

``--rate HZ`` writes a lower rate, as a device at that rate would send it to the service:
the service's own ``StreamResampler`` (box average over the new period, then linear
interpolation), each gap-free run on its own so that no movement is invented across a gap.

    python scripts/convert_streams.py daphnet dataset_fog_release/dataset /work/data-extra/daphnet
    python scripts/convert_streams.py harth har70plus /work/data-extra/har70-20hz --rate 20
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from detector.falls.resample import StreamResampler

#: Daphnet's sensors sample at 64 Hz; the files hold the times truncated to whole ms.
DAPHNET_RATE_HZ = 64.0
#: Columns of the hip ("trunk") sensor and of the annotation in a Daphnet row.
_DAPHNET_HIP = slice(7, 10)
_DAPHNET_ANNOTATION = 10
_HARTH_AXES = ("back_x", "back_y", "back_z")


class ConversionError(ValueError):
    """A source file that does not hold what its format promises."""


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
    try:
        table = np.loadtxt(path, ndmin=2)
    except ValueError as error:
        raise ConversionError(f"{path}: {error}") from None
    if table.shape[1] != 11:
        raise ConversionError(f"{path}: expected 11 columns, got {table.shape[1]}")
    hip = table[:, _DAPHNET_HIP] / 1000.0
    keep = ~np.all(hip == 0.0, axis=1)
    if not all_rows:
        keep &= table[:, _DAPHNET_ANNOTATION] != 0
    times = np.round(table[keep, 0] / 1000.0 * DAPHNET_RATE_HZ) / DAPHNET_RATE_HZ
    return _ordered(path, times, hip[keep])


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
}


def convert(
    fmt: str, source: Path, out: Path, rate_hz: float | None = None, all_rows: bool = False
) -> list[Path]:
    """Every recording of ``source`` (a file or a folder) as a stream in ``out``."""
    pattern = "*.csv" if fmt == "harth" else "S*R*.txt"
    paths = [source] if source.is_file() else sorted(source.glob(pattern))
    if not paths:
        raise ConversionError(f"{source}: no {pattern} recordings")
    written = []
    for path in paths:
        if fmt == "harth":
            times, samples = read_harth(path)
        else:
            times, samples = read_daphnet(path, all_rows)
        if rate_hz is not None:
            times, samples = at_rate(times, samples, rate_hz)
        target = out / f"{path.stem}.csv"
        write_stream(target, times, samples, f"{path.name}: {_SOURCES[fmt]}")
        written.append(target)
    rate = f"resampled to {rate_hz:g} Hz" if rate_hz else "at the recorded rate"
    rows = "all rows" if all_rows else "protocol rows only (annotation 1-2)"
    (out / "SOURCE.txt").write_text(
        f"{_SOURCES[fmt]}\nconverted by scripts/convert_streams.py {fmt}, {rate}"
        + (f", {rows}" if fmt == "daphnet" else "")
        + f"; {len(written)} recordings.\n",
        encoding="utf-8",
    )
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=sorted(_SOURCES))
    parser.add_argument("source", type=Path, help="a recording, or the data set's folder")
    parser.add_argument("out", type=Path, help="folder of t,x,y,z CSVs to write (not the repo)")
    parser.add_argument("--rate", type=float, help="write this lower rate (Hz)")
    parser.add_argument(
        "--all-rows", action="store_true", help="daphnet: keep rows outside the protocol too"
    )
    args = parser.parse_args(argv)
    written = convert(args.format, args.source, args.out, args.rate, args.all_rows)
    print(f"{len(written)} streams written to {args.out}")


if __name__ == "__main__":
    main()

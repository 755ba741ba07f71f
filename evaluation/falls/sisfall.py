"""Reading SisFall-format recordings: one folder per subject, one file per trial.

The format is the one the SisFall authors published (Sucerquia et al., Sensors 2017):
lines of comma-separated raw counts ending in ``;``, the ADXL345 x, y, z first (3 or 9
columns), 200 Hz, ``g = count × 32 / 8192``. Files may be gzipped. Codes ``Fxx`` are falls
and ``Dxx`` activities of daily living; the subject id's letters name its group (``SA``
young adults, ``SE`` elderly).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SISFALL_RATE_HZ = 200.0
#: ADXL345 at ±16 g with 13-bit resolution.
G_PER_COUNT = 32.0 / 8192.0

_NAME = re.compile(r"^(?P<code>[DF]\d{2})_(?P<subject>[A-Za-z]+\d+)_(?P<trial>R\d+)\.txt(\.gz)?$")


class RecordingError(ValueError):
    """A file that claims the SisFall format but does not hold it."""


@dataclass(frozen=True, slots=True)
class Trial:
    """One recording: who, what, which repetition, and where it lies."""

    path: Path
    subject: str
    code: str
    trial: str

    @property
    def is_fall(self) -> bool:
        return self.code.startswith("F")

    @property
    def group(self) -> str:
        """``SA`` (young), ``SE`` (elderly) or ``other``: the issue's subject groups."""
        prefix = re.match(r"[A-Za-z]+", self.subject)
        letters = prefix.group(0).upper() if prefix else ""
        return letters if letters in {"SA", "SE"} else "other"


_SUBJECT = re.compile(r"^[A-Za-z]+\d+$")


def find_trials(data_dir: Path) -> list[Trial]:
    """Every trial file below ``data_dir`` (subject folders, or flat), sorted.

    The subject is the folder a file lies in when that folder is named like a subject: the
    published SisFall has files named ``D17_SE15_*`` inside ``SA15/``, and a person must
    never land in two cross-validation folds because of a typo in a file name.
    """
    trials = []
    for path in sorted(data_dir.rglob("*.txt*")):
        match = _NAME.match(path.name)
        if match and path.is_file():
            folder = path.parent.name
            subject = folder if _SUBJECT.match(folder) else match["subject"]
            trials.append(Trial(path, subject, match["code"], match["trial"]))
    return trials


def read_trial(path: Path) -> np.ndarray:
    """The ADXL345 samples of one file in g, shape (n, 3), float32."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    rows = [line for line in raw.replace(b"\r", b"").split(b";") if line.strip()]
    if not rows:
        raise RecordingError(f"{path}: no samples")
    columns = rows[0].count(b",") + 1
    if columns not in (3, 9):
        raise RecordingError(f"{path}: {columns} columns, expected 3 or 9")
    try:
        counts = np.array(b",".join(rows).split(b","), dtype=np.float32)
    except ValueError as error:
        raise RecordingError(f"{path}: {error}") from None
    if counts.size != len(rows) * columns:
        raise RecordingError(f"{path}: ragged lines")
    return counts.reshape(len(rows), columns)[:, :3] * np.float32(G_PER_COUNT)

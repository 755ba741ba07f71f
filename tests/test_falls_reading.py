"""Reading SisFall-format files: both column layouts, plain and gzipped, subject folders."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from evaluation.falls.sisfall import G_PER_COUNT, RecordingError, find_trials, read_trial

ROWS = [(-9, -257, -25), (4096, 0, -4096)]


def _write(path: Path, columns: int, gz: bool) -> None:
    extra = ",11,12,13,14,15,16" if columns == 9 else ""
    text = "".join(f" {x},{y},{z}{extra};\r\n" for x, y, z in ROWS)
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)


@pytest.mark.parametrize("columns", [3, 9])
@pytest.mark.parametrize("gz", [False, True])
def test_reads_both_layouts_in_g(tmp_path: Path, columns: int, gz: bool) -> None:
    path = tmp_path / "SA01" / f"F01_SA01_R01.txt{'.gz' if gz else ''}"
    _write(path, columns, gz)
    samples = read_trial(path)
    assert samples.shape == (2, 3)
    np.testing.assert_allclose(samples, np.array(ROWS) * G_PER_COUNT)
    assert samples[1, 0] == pytest.approx(16.0)  # 4096 counts at ±16 g, 13 bit


def test_broken_files_are_errors_not_garbage(tmp_path: Path) -> None:
    bad = tmp_path / "D01_SA01_R01.txt"
    bad.write_text("1,2;\n3,4;\n")
    with pytest.raises(RecordingError, match="2 columns"):
        read_trial(bad)
    bad.write_text("1,2,x;\n")
    with pytest.raises(RecordingError):
        read_trial(bad)


def test_trials_take_their_subject_from_the_folder(tmp_path: Path) -> None:
    # The published SisFall has D17_SE15_* files inside SA15/: they are SA15's.
    _write(tmp_path / "SA15" / "D17_SE15_R01.txt", 3, False)
    _write(tmp_path / "SE02" / "D01_SE02_R01.txt.gz", 3, True)
    _write(tmp_path / "flat" / "F03_XY07_R02.txt", 3, False)
    (tmp_path / "SA15" / "notes.txt").write_text("not a trial")
    trials = {t.path.name: t for t in find_trials(tmp_path)}
    assert set(trials) == {"D17_SE15_R01.txt", "D01_SE02_R01.txt.gz", "F03_XY07_R02.txt"}
    assert trials["D17_SE15_R01.txt"].subject == "SA15"
    assert trials["D17_SE15_R01.txt"].group == "SA"
    assert trials["D01_SE02_R01.txt.gz"].group == "SE"
    assert not trials["D01_SE02_R01.txt.gz"].is_fall
    assert trials["F03_XY07_R02.txt"].subject == "XY07"
    assert trials["F03_XY07_R02.txt"].group == "other"
    assert trials["F03_XY07_R02.txt"].is_fall

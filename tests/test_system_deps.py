"""``scripts/install-system-deps`` asks for what a fresh Debian machine lacks: chromium alone
draws the dashboard's Chinese as empty boxes, so a CJK font comes with it.

Run as a non-root user (a stub ``id``), the script lists what is missing instead of
installing; a stub ``dpkg-query`` says whether the font package is there.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install-system-deps"


def missing_packages(tmp_path: Path, font_installed: bool) -> str:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    status = "install ok installed" if font_installed else ""
    for name, body in (("id", "echo 1000"), ("dpkg-query", f"printf '{status}'")):
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stderr


@pytest.mark.parametrize("font_installed", [False, True])
def test_a_cjk_font_is_installed_with_chromium(tmp_path: Path, font_installed: bool) -> None:
    asked = "fonts-noto-cjk" in missing_packages(tmp_path, font_installed)
    assert asked is not font_installed

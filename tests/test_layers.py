"""The layers of DESIGN §1-2 hold: import-linter's contracts in pyproject.toml are kept.

`make test` runs `lint-imports` too; this test makes a plain `pytest` fail the same way, with
the broken chain in the message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr

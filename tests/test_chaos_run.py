"""Acceptance of issue 19: the seeded chaos run against the real system, as processes.

Two minutes of faults (every kind at least once) on mosquitto, PostgreSQL through a proxy,
victoria-metrics and the four services; every invariant must hold. A violation prints the
seed and the fault schedule, so the exact run can be replayed with ``eldercare chaos``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]


def test_two_minutes_of_chaos_with_seed_11_break_no_invariant() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from eldercare.app.cli import app; app()",
            "chaos",
            "--minutes",
            "2",
            "--seed",
            "11",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    result = json.loads(run.stdout)
    assert len(result["faults"]) >= 12, run.stderr[-3000:]
    assert result["violations"] == [], json.dumps(result, indent=2, ensure_ascii=False)
    assert run.returncode == 0

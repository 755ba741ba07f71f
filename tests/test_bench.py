"""``eldercare bench`` on a tiny district: the JSON it promises, and nothing lost (issue 18).

Run from outside the checkout, so the installed command must find ``benchmarks`` itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.layout import STANDARD_DEVICES

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]


def tiny_bench(tmp_path: Path, *options: str) -> dict[str, Any]:
    """``eldercare bench`` on 8 homes for 4 s, its JSON; fails the test on a non-zero exit."""
    command = ["bench", "--homes", "8", "--seconds", "4", "--state-homes", "20,40", "--json"]
    run = subprocess.run(
        [sys.executable, "-c", "from eldercare.app.cli import app; app()", *command, *options],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-6000:]
    return json.loads(run.stdout)


def test_a_tiny_bench_reports_every_figure_and_loses_nothing(tmp_path: Path) -> None:
    result = tiny_bench(tmp_path)
    assert result["lost"] == 0
    assert result["counts"]["published"] == result["counts"]["gateway_accepted"] > 0
    # Warmed up by default: every device of the 8 homes heard once before the measured phases,
    # its messages counted with the rest (lost ones would fail the run), so the flat-out phase
    # makes the gateway publish no first-contact statuses.
    warm = result["warm_up"]
    assert warm["enabled"] and warm["drained"]
    assert warm["messages"] == result["counts"]["warm_up_published"] == 8 * len(STANDARD_DEVICES)
    assert warm["statuses"] >= warm["messages"]
    measured = result["flat_out_messages"] + result["presses"]
    assert result["counts"]["published"] >= warm["messages"] + measured
    assert result["statuses_per_msg"] == 0
    assert result["raw_per_s"] > 0 and result["ratio"] > 0
    assert result["presses"] > 0 and result["presses_missed"] == 0
    assert 0 < result["p50"] <= result["p95"] <= result["p99"]
    services = {"gateway", "detector", "alerting", "dashboard"}
    assert set(result["rss_mib"]) == services
    # CPU per message, comparable on a busy machine, and the alerts that loaded alerting
    assert set(result["cpu_ms_per_msg"]) == services
    # The gateway and detector handle every message; alerting no longer reads the stream
    # (issue 18), so over a tiny run its CPU may stay under one clock tick (10 ms): 0.
    cpu = result["cpu_ms_per_msg"]
    assert cpu["gateway"] > 0 and cpu["detector"] > 0
    assert all(ms >= 0 for ms in cpu.values())
    assert result["alerts_raised"].get("call_button", 0) >= result["presses"]
    assert result["statuses_per_msg"] >= 0
    # How often each service's loop was held during the presses, by bound (eldercare.loop_lag)
    stalls = result["loop_stalls_in_press_phase"]
    assert set(stalls) == services | {"bench"}
    assert all(set(bounds) == {"0.025", "0.05", "0.1", "0.25", "1.0"} for bounds in stalls.values())
    assert all(count >= 0 for bounds in stalls.values() for count in bounds.values())
    assert set(result["state_bytes_per_home"]) == {"20", "40"}
    assert all(size > 0 for size in result["state_bytes_per_home"].values())


def test_a_restarted_gateway_publishes_no_status_for_devices_as_they_were(tmp_path: Path) -> None:
    """``--restart-gateway``: warmed up, then the gateway process restarted. It reads every
    status back (each device's and each home's) and, the devices heard as they were, the
    measured phases make it publish none; its counts from before the restart still add up."""
    result = tiny_bench(tmp_path, "--restart-gateway")
    assert result["lost"] == 0
    assert 0 < result["gateway_restart_s"] <= result["gateway_statuses_read_s"]
    assert result["statuses_restored"] == {"restored": 8 * (len(STANDARD_DEVICES) + 1)}
    assert result["statuses_per_msg"] == 0

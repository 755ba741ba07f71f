"""SIGTERM and SIGINT stop a service process cleanly: every service, its cleanup, in seconds.

Containers stop with SIGTERM, and an operator's ``kill PID`` too. Before, SIGTERM killed the
process without any cleanup (the demo's private mosquitto kept running), and a SIGINT from
outside a terminal stopped only the dashboard's web server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from eldercare.app.runtime import Service
from eldercare.broker import LocalMosquitto, free_port
from eldercare.settings import Settings
from tests.harness import wait_for_services

pytestmark = [pytest.mark.integration]

STOP_WITHIN_S = 10.0


def _start(args: list[str], folder: Path, **env: str) -> subprocess.Popen[bytes]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ELDERCARE_")}
    clean.update(ELDERCARE_DATA_DIR=str(folder), ELDERCARE_LOG_LEVEL="INFO", **env)
    log = (folder / "service.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-c", "from eldercare.app.cli import app; app()", *args],
        env=clean,
        cwd=folder,
        stdout=log,
        stderr=log,
        start_new_session=True,  # not our terminal's process group: signals only as sent
    )


def _stopped(process: subprocess.Popen[bytes], folder: Path) -> int:
    try:
        return process.wait(STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        log = (folder / "service.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"still running {STOP_WITHIN_S} s after the signal; log:\n{log}")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("service", [service.value for service in Service])
async def test_sigterm_stops_each_service_cleanly(
    service: str, mosquitto: LocalMosquitto, tmp_path: Path
) -> None:
    port = free_port()
    process = _start(
        ["run", service],
        tmp_path,
        ELDERCARE_BROKER_URL=mosquitto.url,
        ELDERCARE_HTTP_PORT=str(port),
    )
    client_id = f"eldercare-dashboard-{port}" if service == "dashboard" else f"eldercare-{service}"
    try:
        settings = Settings(broker_url=mosquitto.url, data_dir=tmp_path)
        await wait_for_services(settings, [client_id], timeout=30)
        process.send_signal(signal.SIGTERM)
        assert _stopped(process, tmp_path) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    _assert_cleaned_up(tmp_path, service)


def _assert_cleaned_up(folder: Path, service: str) -> None:
    assert "stopped" in (folder / "service.log").read_text()
    # The database was closed: SQLite folds its write-ahead log back in on the last close.
    assert not [wal for wal in folder.rglob("*.db-wal") if wal.stat().st_size]
    if service == "detector":
        assert (folder / "detector-state.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_whole_demo_and_its_private_broker(
    signum: signal.Signals, tmp_path: Path
) -> None:
    port = free_port()
    demo = _start(
        ["demo", "--no-open", "--homes", "1", "--port", str(port), "--data-dir", "demo"],
        tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert demo.poll() is None, (tmp_path / "service.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the demo's dashboard never answered"
            time.sleep(0.3)
        brokers = [pid for pid in _children(demo.pid) if "mosquitto" in _cmdline(pid)]
        assert brokers, "the demo starts its own mosquitto"
        folders = [Path(_cmdline(pid).split("-c\0")[1].split("\0")[0]).parent for pid in brokers]
        demo.send_signal(signum)
        assert _stopped(demo, tmp_path) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    assert not [pid for pid in brokers if _alive(pid)], "the private mosquitto outlived the demo"
    assert not [folder for folder in folders if folder.exists()], "its temp folder was left"


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text()

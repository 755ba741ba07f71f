"""The command line, including the README's demo command as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from eldercare import __version__
from eldercare.broker import free_port
from eldercare.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"eldercare {__version__}"


def test_unknown_service_is_a_clear_error() -> None:
    result = runner.invoke(app, ["run", "toaster"])
    assert result.exit_code == 2
    assert "unknown service" in result.output


def test_production_without_secrets_refuses_to_start(monkeypatch) -> None:
    monkeypatch.setenv("ELDERCARE_ENVIRONMENT", "production")
    result = runner.invoke(app, ["run", "gateway"])
    assert result.exit_code == 2
    assert "ELDERCARE_SECRET_KEY" in result.output


@pytest.mark.integration
@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    """`eldercare demo` starts its own broker and services; alerts appear on the API."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eldercare",
            "demo",
            "--homes",
            "2",
            "--press-every",
            "0.5",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        alerts: list = []
        while time.monotonic() < deadline and not alerts:
            time.sleep(0.3)
            try:
                alerts = httpx.get(f"http://127.0.0.1:{port}/api/alerts", timeout=2).json()
            except httpx.HTTPError:
                continue
        assert alerts, "no alert reached the dashboard API within 30 s"
        assert alerts[0]["kind"] == "call_button"
        assert alerts[0]["home"] in {"h-0001", "h-0002"}
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        assert "驿站告警墙" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0].decode()
    assert f"dashboard: http://127.0.0.1:{port}/" in output
    assert process.returncode == 0, output[-2000:]

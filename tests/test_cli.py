"""The command line, including the README's demo command as a real process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from eldercare import __version__
from eldercare.app.cli import app
from eldercare.app.demo import open_when_serving
from eldercare.broker import free_port

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


def test_the_demo_keeps_its_data_where_every_other_command_looks(monkeypatch, tmp_path) -> None:
    """`eldercare report response` after the demo must see the demo's alerts."""
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path))
    seen: dict[str, object] = {}

    async def fake_demo(**options: object) -> None:
        seen.update(options)

    monkeypatch.setattr("eldercare.app.demo.run_demo", fake_demo)
    assert runner.invoke(app, ["demo", "--no-open"]).exit_code == 0
    assert seen["data_dir"] == tmp_path


def test_a_service_says_which_broker_it_joins(monkeypatch) -> None:
    monkeypatch.setenv("ELDERCARE_BROKER_URL", "mqtt://watcher:s3cret@127.0.0.1:1")
    monkeypatch.setattr("eldercare.app.cli.run_until_stopped", lambda coroutine: coroutine.close())
    result = runner.invoke(app, ["run", "gateway"])
    assert result.exit_code == 0
    assert "broker mqtt://127.0.0.1:1" in result.output
    assert "s3cret" not in result.output


def test_a_family_link_without_the_dashboards_key_is_an_error(monkeypatch) -> None:
    monkeypatch.delenv("ELDERCARE_SECRET_KEY", raising=False)
    result = runner.invoke(app, ["users", "family-link", "h-0001", "--name", "李明"])
    assert result.exit_code == 2
    assert "ELDERCARE_SECRET_KEY" in result.output
    assert "/family/" not in result.output


def read_until(stream, marker: str, limit: int = 200) -> str:
    """Lines of the demo's output up to the one containing ``marker``."""
    seen = []
    for _ in range(limit):
        line = stream.readline().decode()
        seen.append(line)
        if marker in line or not line:
            break
    return "".join(seen)


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
            "--no-open",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        banner = read_until(process.stdout, "family view")
        assert f"dashboard: http://127.0.0.1:{port}/" in banner, banner
        username, password = re.search(r"log in as '(.+?)', password '(.+?)'", banner).groups()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        token = None
        while token is None and time.monotonic() < deadline:
            try:
                login = httpx.post(
                    f"{base}/api/session", json={"username": username, "password": password}
                )
                token = login.json()["token"]
            except httpx.HTTPError:
                time.sleep(0.3)
        headers = {"Authorization": f"Bearer {token}"}
        alerts: list = []
        while time.monotonic() < deadline and not alerts:
            time.sleep(0.3)
            alerts = httpx.get(f"{base}/api/alerts", headers=headers, timeout=2).json()["items"]
        assert alerts, "no alert reached the dashboard API within 30 s"
        # Until the station has been told (so its inbox line is in the log read below).
        timeline = f"{base}/api/alerts/{alerts[0]['alert_id']}/timeline"
        delivered = False
        while time.monotonic() < deadline + 30 and not delivered:
            time.sleep(0.3)
            steps = httpx.get(timeline, headers=headers, timeout=2).json()
            delivered = any(step.get("note_key") == "delivered" for step in steps)
        assert delivered, steps
        assert alerts[0]["kind"] == "call_button"
        assert alerts[0]["home"] in {"h-0001", "h-0002"}
        assert httpx.get(f"{base}/api/alerts", timeout=2).status_code == 401
        # The printed family link opens the relative's page (it was rejected before).
        family = re.search(r"family view of h-0001, as (\S+): (\S+)", banner)
        assert family, banner
        page = httpx.get(family.group(2), timeout=5)
        assert page.status_code == 200, page.text[:500]
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output[-2000:]
    # The demo's station "receives" the alert in its inbox, with the signed ack link.
    assert "demo_notification" in output and f"{base}/ack/" in output, output[-2000:]
    assert "tier_has_nobody" not in output


async def test_the_demo_opens_the_dashboard_only_once_it_answers() -> None:
    """DESIGN §7: `eldercare demo` opens the dashboard; a browser sent to a port that does
    not listen yet would show an error page."""
    port = free_port()
    opened: list[str] = []
    url = f"http://127.0.0.1:{port}/"
    waiting = asyncio.create_task(open_when_serving("127.0.0.1", port, url, opener=opened.append))
    await asyncio.sleep(0.5)
    assert opened == [] and not waiting.done()
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
    async with server:
        assert await asyncio.wait_for(waiting, 10) is True
    assert opened == [url]
    assert not await open_when_serving("127.0.0.1", port, url, opener=opened.append, wait_s=0.5)
    assert opened == [url]  # nothing listens any more: no second browser, a hint instead

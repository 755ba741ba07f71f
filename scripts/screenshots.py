"""Regenerate docs/screenshots/*.png from a fresh `eldercare demo`, as a new user sees it.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the demo (its own mosquitto, SQLite in a temp folder, three homes pressing their call
buttons every few seconds), logs in with the password the demo prints, and photographs the
wall (zh-CN and English; one alert acknowledged with someone on the way), an alert, the
homes list, a home, and the family page the demo's printed link opens, in Debian's chromium.
Needs the system packages of `scripts/install-system-deps` (chromium, a CJK font).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eldercare.broker import free_port  # noqa: E402
from tests.browser import chromium  # noqa: E402

WAIT_S = 60


def start_demo(folder: Path, port: int) -> tuple[subprocess.Popen[bytes], str, str, str]:
    """The demo process, and its admin user, password and family link (from its banner)."""
    demo = subprocess.Popen(
        [
            *(sys.executable, "-m", "eldercare", "demo", "--homes", "3", "--press-every", "4"),
            *("--port", str(port), "--data-dir", str(folder), "--no-open"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=folder,
    )
    assert demo.stdout is not None
    banner = ""
    while "family view" not in banner:
        line = demo.stdout.readline().decode()
        if not line:
            raise SystemExit(f"the demo stopped:\n{banner}")
        banner += line
    found = re.search(r"log in as '(.+?)', password '(.+?)'", banner)
    family = re.search(r"family view of \S+, as \S+: (\S+)", banner)
    assert found and family, banner
    return demo, found[1], found[2], family[1]


def wait_for_alerts(base: str, username: str, password: str, count: int) -> str:
    """The first alert's id, once ``count`` alerts are on the wall."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            login = httpx.post(
                f"{base}/api/session", json={"username": username, "password": password}
            )
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            items = httpx.get(f"{base}/api/alerts", headers=headers).json()["items"]
            if len(items) >= count:
                return str(items[-1]["alert_id"])
        except (httpx.HTTPError, KeyError):
            pass
        time.sleep(1)
    raise SystemExit(f"fewer than {count} alerts on the wall after {WAIT_S} s")


async def photograph(
    base: str, username: str, password: str, family: str, alert: str, out: Path
) -> None:
    async with chromium() as browser:
        staff = await browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 720}, base_url=base
        )
        page = await staff.new_page()
        await page.goto("/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.wait_for_selector("tr[data-alert-id]")
        await page.screenshot(path=out / "wall.png")
        row = page.locator("tr[data-alert-id]").first
        await row.locator("button.on-the-way").click()
        await row.locator("button.ack").click()
        await row.locator("button.ack").wait_for(state="detached")
        await page.screenshot(path=out / "wall-acknowledged.png")
        for name, path in (
            ("wall", "/"),
            ("alert", f"/alerts/{alert}"),
            ("homes", "/homes"),
            ("home", "/homes/h-0001"),
            ("wall-en", "/?lang=en"),
        ):
            await page.goto(path)
            await page.wait_for_load_state("networkidle")
            await page.screenshot(path=out / f"{name}.png")
            print(f"{out / name}.png", file=sys.stderr)
        phone = await browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 760}, is_mobile=True
        )
        relative = await phone.new_page()
        await relative.goto(family)
        await relative.wait_for_load_state("networkidle")
        await relative.screenshot(path=out / "family.png")
        print(f"{out / 'family'}.png", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="eldercare-screenshots-") as folder:
        demo, username, password, family = start_demo(Path(folder), port)
        try:
            base = f"http://127.0.0.1:{port}"
            alert = wait_for_alerts(base, username, password, count=3)
            asyncio.run(photograph(base, username, password, family, alert, out))
        finally:
            demo.terminate()
            demo.wait(30)


if __name__ == "__main__":
    main()

"""The visiting list and the family's week in a real browser (Debian chromium through
playwright): staff record a visit from the list and the home moves down; the family page
shows the weekly sentence; nothing is refused by the Content-Security-Policy."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import chromium
from tests.dashboard_world import PASSWORD, dashboard_world, fast_hashing, served
from tests.test_dashboard_login_browser import refusals_of
from tests.test_visits import raise_notice

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.usefixtures(fast_hashing.__name__),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


async def logged_in(browser: Browser, base: str, username: str, goto: str) -> Page:
    context = await browser.new_context(locale="zh-CN", base_url=base)
    page = await context.new_page()
    await page.goto(f"/login?next={goto}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{base}{goto}")
    return page


async def test_a_recorded_visit_moves_the_home_down_and_the_family_reads_the_week(
    engine,
) -> None:
    async with dashboard_world(engine) as world, served(world.app) as base, chromium() as browser:
        await raise_notice(engine, "h-1", first=date(2026, 10, 25))
        page = await logged_in(browser, base, "sup-east", "/visits")
        refused = refusals_of(page)
        rows = page.locator("#visiting tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_have_attribute("data-home-id", "h-1")
        await expect(rows.nth(0)).to_contain_text("关怀提示：夜间如厕增多")

        form = page.locator('form.record-visit[data-home-id="h-1"]')
        await form.locator("select[name=mode]").select_option("in_person")
        await form.locator("select[name=outcome]").select_option("well")
        await form.locator("input[name=note]").fill("血压正常，已提醒多喝水")
        await form.locator("button[type=submit]").click()

        await expect(rows.nth(0)).to_have_attribute("data-home-id", "h-2")
        await expect(rows.nth(1)).to_have_attribute("data-home-id", "h-1")
        await expect(rows.nth(1)).to_contain_text("上门")
        await expect(rows.nth(1)).not_to_contain_text("关怀提示")

        family = await logged_in(browser, base, "family1", "/homes/h-1")
        family_refused = refusals_of(family)
        await expect(family.locator("#week")).to_contain_text("夜里起来约 4 次，比平时多")
        await expect(family.locator("#week")).to_contain_text("大多数晚上睡了约")
        assert not refused and not family_refused, (refused, family_refused)

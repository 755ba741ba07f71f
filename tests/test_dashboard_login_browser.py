"""Logging in from the login page in a real browser (Debian chromium through playwright):
the page's script, not only the API, must survive a wrong password, and run under the
Content-Security-Policy (the browser reports what the policy refused on the console)."""

from __future__ import annotations

import pytest
from playwright.async_api import ConsoleMessage, Page, Route, expect

from tests.browser import chromium
from tests.dashboard_world import PASSWORD, dashboard_world, fast_hashing, served

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.usefixtures(fast_hashing.__name__),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


def refusals_of(page: Page) -> list[str]:
    """What the Content-Security-Policy refused on ``page``, as chromium reports it."""
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", note)
    return refused


async def test_a_wrong_password_shows_the_error_and_the_right_one_opens_the_wall(
    engine,
) -> None:
    async with dashboard_world(engine) as world, served(world.app) as base, chromium() as browser:
        context = await browser.new_context(locale="zh-CN", base_url=base)
        page = await context.new_page()
        refused = refusals_of(page)
        await page.goto("/")
        await expect(page).to_have_url(f"{base}/login?next=/")

        await page.fill("input[name=username]", "staff1")
        await page.fill("input[name=password]", "not the password")
        await page.click("button[type=submit]")
        await expect(page.locator("#login-error")).to_be_visible()
        await expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
        await expect(page).to_have_url(f"{base}/login?next=/")

        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page).to_have_url(f"{base}/")
        await expect(page.locator("tr[data-alert-id]")).to_have_count(1)
        await expect(page.locator("#conn")).to_have_text("实时连接")
        assert not refused, refused


async def test_the_api_docs_work_without_internet(engine) -> None:
    async with dashboard_world(engine) as world, served(world.app) as base, chromium() as browser:
        context = await browser.new_context(base_url=base)
        outside: list[str] = []

        async def no_internet(route: Route) -> None:
            if route.request.url.startswith(base):
                await route.continue_()
            else:
                outside.append(route.request.url)
                await route.abort()

        await context.route("**/*", no_internet)
        page = await context.new_page()
        refused = refusals_of(page)
        await page.goto("/docs")
        await expect(page.locator(".opblock").first).to_be_visible()
        assert await page.locator(".opblock").count() >= 10
        await expect(page.locator(".info .title")).to_contain_text("eldercare dashboard")
        assert not outside, outside
        assert not refused, refused

"""The dashboard in a real browser (Debian chromium through playwright) on the full system
over a real broker: the acceptance scenario of the station wall and the family view.
The screenshots in ``docs/screenshots/`` come from a fresh demo: ``scripts/screenshots.py``.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Page, expect

from dashboards.family_links import family_link, family_token
from eldercare.clock import RealClock
from simulator.demo_people import PEOPLE, STATION_PHONE
from simulator.homes import make_homes
from simulator.runner import Simulator
from tests.browser import chromium
from tests.dashboard_world import PASSWORD, fast_hashing, seed_stations
from tests.harness import PUSHED_WITHIN_S, make_settings, running_system

#: h-0002's relative in the seeded world (the demo's people): family links name a contact.
RELATIVE = PEOPLE[1][4]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.usefixtures(fast_hashing.__name__),
]

PLACEMENTS = {"h-0001": "s-1", "h-0002": "s-1", "h-0003": "s-2"}
STAFF = {"wang": ("王芳", "s-1"), "li": ("李娜", "s-2")}


async def logged_in_page(browser: Browser, base: str, username: str) -> Page:
    context = await browser.new_context(
        locale="zh-CN", viewport={"width": 1200, "height": 640}, base_url=base
    )
    page = await context.new_page()
    await page.goto("/")
    await expect(page).to_have_url(f"{base}/login?next=/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{base}/")
    await expect(page.locator("#conn")).to_have_text("实时连接")
    return page


async def test_station_wall_and_family_view_in_chromium(mosquitto, tmp_path) -> None:
    settings = make_settings(mosquitto, tmp_path, secret_key="s" * 32)
    homes = make_homes(3)
    await seed_stations(settings.db_url, PLACEMENTS, STAFF, RealClock().now())
    simulator = Simulator(settings, RealClock(), homes)
    base = f"http://127.0.0.1:{settings.http_port}"
    async with (
        running_system(settings, homes),
        asyncio.TaskGroup() as group,
        chromium() as browser,
    ):
        sim_task = group.create_task(simulator.connection.run())
        await simulator.connection.connected.wait()
        try:
            wang = await logged_in_page(browser, base, "wang")
            li = await logged_in_page(browser, base, "li")
            await expect(wang.locator("#empty")).to_be_visible()

            # A press appears on the wall without reload (the wall has no poll: it is pushed).
            await simulator.press_call_button("h-0001")
            row = wang.locator("tr[data-alert-id]")
            await expect(row).to_have_count(1, timeout=PUSHED_WITHIN_S * 1000)
            # Who and where at a glance; what to know about them one click away.
            await expect(row).to_contain_text("李秀英")
            await expect(row).to_contain_text("和平路12号3单元201")
            await expect(row).to_contain_text("紧急")
            await expect(row.get_by_text("钥匙在邻居家（302）")).to_be_hidden()
            await row.locator("details.who summary").click()
            await expect(row.get_by_text("钥匙在邻居家（302）")).to_be_visible()
            await expect(row.locator("details.who")).to_contain_text(
                "家属: 李明 (儿子) 138 0000 0001"
            )
            await expect(row.locator(".status")).to_have_text("待处理")
            await expect(wang.locator("#banner")).to_be_visible()  # the visual cue
            alert_id = await row.get_attribute("data-alert-id")

            # On the way, then acknowledge, from the page: the state changes in place.
            await row.locator("button.on-the-way").click()
            await expect(row.locator(".handler")).to_contain_text("王芳 正在赶往")
            await row.locator("button.ack").click()
            await expect(row.locator(".status")).to_have_text("已确认")
            await expect(row.locator(".handler")).to_contain_text("已确认 王芳")
            await expect(row.locator("button.ack")).to_have_count(0)

            # Another station's staff never sees it: not on the wall, not by its address.
            await asyncio.sleep(0.3)
            await expect(li.locator("tr[data-alert-id]")).to_have_count(0)
            await expect(li.locator("#empty")).to_be_visible()
            response = await li.goto(f"/alerts/{alert_id}")
            assert response is not None and response.status == 404
            response = await li.goto("/homes/h-0001")
            assert response is not None and response.status == 404
            await li.goto("/homes")
            await expect(li.locator("tr[data-home-id]")).to_have_count(1)
            await expect(li.locator("tr[data-home-id='h-0003']")).to_have_count(1)

            # Pages for the record.
            await wang.goto(f"/alerts/{alert_id}")
            await expect(wang.locator("#timeline")).to_contain_text("已确认")
            await expect(wang.locator("#sensors")).to_contain_text("按下呼叫按钮")
            await wang.goto("/homes")
            await expect(wang.locator("tr[data-home-id]")).to_have_count(2)
            await wang.goto("/homes/h-0001")
            await wang.select_option("#mode-form select[name=mode]", "hospital")
            await wang.fill("#mode-form input[name=note]", "肺炎住院")
            await wang.click("#mode-form button[type=submit]")
            await expect(wang.locator("#mode-now")).to_contain_text("住院")
            await expect(wang.locator("#mode-now")).to_contain_text("王芳")
            await wang.goto("/?lang=en")
            await expect(wang.locator("h1")).to_have_text("Eldercare")
            await expect(wang.locator("tr[data-alert-id] .status")).to_have_text("Acknowledged")
            await expect(wang.locator("tr[data-alert-id]")).to_contain_text("Relative: 李明 (Son)")

            # The family of h-0002 opens their signed link on a phone and acknowledges.
            await simulator.press_call_button("h-0002")
            link = family_link(
                base, family_token(settings.signing_key(), "h-0002", RELATIVE, RealClock().now())
            )
            phone = await browser.new_context(
                locale="zh-CN", viewport={"width": 390, "height": 760}, is_mobile=True
            )
            family = await phone.new_page()
            await family.goto(link)
            await expect(family.locator("#verdict")).to_have_text("需要关注")
            await expect(family.locator("#station-phone a.phone")).to_have_text(STATION_PHONE)
            await expect(family.locator("#family-alerts")).not_to_contain_text("h-0001")
            await family.locator("button.ack").click()
            await expect(family.locator("#family-alerts")).to_contain_text(
                f"已由 {RELATIVE}（家属） 确认"
            )
            await expect(family.locator("button.ack")).to_have_count(0)
            # ...and the station sees it at once.
            await wang.goto("/?lang=zh-CN")
            family_row = wang.locator("tr[data-alert-id]", has_text="张桂兰")
            await expect(family_row.locator(".handler")).to_contain_text(f"{RELATIVE}（家属）")
            # Same severity: the older alert stays on top.
            residents_in_order = await wang.locator(
                "tr[data-alert-id] summary strong"
            ).all_inner_texts()
            assert residents_in_order == ["李秀英", "张桂兰"]

            # A dense wall: in English at 1280 px one alert is one line, at most ~60 px.
            await wang.set_viewport_size({"width": 1280, "height": 720})
            await wang.goto("/?lang=en")
            rows = wang.locator("tr[data-alert-id]")
            await expect(rows).to_have_count(2)
            await expect(rows.first).to_contain_text("李秀英")
            await expect(rows.first).to_contain_text("和平路12号3单元201")
            for index in range(2):
                box = await rows.nth(index).bounding_box()
                assert box is not None and box["height"] <= 60, box
            # ...and resolving is one click away: the form opens on demand, not in the row.
            dialog = wang.locator("#resolve-dialog")
            await expect(dialog).to_be_hidden()
            await rows.first.locator("button.resolve").click()
            await expect(dialog).to_be_visible()
            await expect(dialog.locator("select[name=outcome]")).to_be_visible()
            await dialog.locator("select[name=outcome]").select_option("false_alarm")
            await dialog.locator("button[value=resolve]").click()
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text("张桂兰")
        finally:
            sim_task.cancel()

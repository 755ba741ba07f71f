"""Every page, rendered in zh-CN and in English from a seeded world, says everything in the
reader's language (issue 14, item 5): no missing catalogue key, no raw registry or enum word
(``bed_pressure``, ``living_room``, ``child``), no service name as an actor, and a timeline
whose notes read naturally in both languages, English nowhere in the Chinese ones.

``test_dashboard_i18n`` checks the templates' source; this checks what a reader gets.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting import notes, store
from dashboards import rendering
from dashboards.family_links import family_token
from dashboards.i18n import catalogue
from eldercare.db.models import AlertEventRow, AlertRow, ContactRow, DeviceRow
from eldercare.models import AlertStatus, Outcome, Severity
from tests.dashboard_world import SECRET, World, call_button_alert, dashboard_world, fast_hashing
from tests.dashboard_world import log_in as logged_in

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

ALERT = "a-h-1-1"
#: A step stored before notes were kept as facts: shown as it was written.
LEGACY_NOTE = "tier 0 (station) at T+0s, first notification: 王芳"
#: What a screen must never show as such: registry and enum words, service names.
RAW_WORDS = re.compile(
    r"\b(bed_pressure|living_room|call_button|child|single|detector|alerting|family_link"
    r"|first notification|T\+\d+s|tier \d)\b"
)
#: A catalogue key that reached the page instead of its label.
RAW_KEY = re.compile(
    r"\b(?:note|status|kind|severity|room|device_kind|relation|actor|channel|target|event"
    r"|outcome|response|mode|connectivity|duration|wall|day|family|login|nav)\.[a-z_]+\b"
)
LATIN = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3400-\u9fff]")
#: Values a note quotes as they are (people's names, a channel's label, a provider's
#: error, a person's own note): everything else in a Chinese note must be Chinese.
QUOTED = ("王芳", "张明", "json …0.1", "HTTP 503", "已上门")


class VisibleText(HTMLParser):
    """The text a reader sees, and that of one element (by id) apart."""

    def __init__(self, element_id: str = "") -> None:
        super().__init__()
        self.element_id, self.parts, self.element = element_id, [], []
        self._skip = self._inside = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._skip += 1
        if self._inside or dict(attrs).get("id") == self.element_id:
            self._inside += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"}:
            self._skip -= 1
        if self._inside:
            self._inside -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if self._inside:
                self.element.append(data)


def visible(html: str, element_id: str = "") -> tuple[str, list[str]]:
    parser = VisibleText(element_id)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.element


class StrictCatalogue(dict[str, str]):
    """Fails the page on a key the catalogue lacks, where Jinja would render it as nothing."""

    def __missing__(self, key: str) -> str:
        raise AssertionError(f"no catalogue entry {key!r}")


@pytest.fixture
def strict_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendering, "catalogue", lambda lang: StrictCatalogue(catalogue(lang)))


async def seed(engine: AsyncEngine, world: World) -> None:
    """What the issue saw raw: a bed sensor in the living room, a relative who is a "child",
    and a timeline written by alerting (every kind of note) and by people."""
    now = world.clock.now()
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        session.add(
            DeviceRow(
                home_id="h-1", id="mat-1", kind="bed_pressure", room="living_room", created_at=now
            )
        )
        session.add(ContactRow(home_id="h-1", name="张丽", relation="child", position=2))
    await world.api.record(
        call_button_alert("h-1", now, number=2).model_copy(update={"alert_id": "a-h-1-2"})
    )
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        alert = await session.get(AlertRow, ALERT)
        assert alert is not None
        for note in (
            notes.trigger_attached("a-h-1-3", Severity.HIGH.value, Severity.CRITICAL.value),
            notes.tier_fired(0, "station", 0, ["王芳"]),
            notes.delivered("王芳", "json …0.1", 1, taken=False),
            notes.retrying("张明", 2, 10, "json …0.1: HTTP 503"),
            notes.unreachable("张明", 6, "json …0.1: HTTP 503"),
            notes.tier_nobody(2, "centre", 600),
            notes.tier_fired(1, "family", 125, ["张明", "王芳"]),
            notes.not_expired(86400),
            notes.delivered("王芳", "json …0.1", 1, taken=True),
            notes.not_needed("张明"),
            notes.service_back("detector", online=True),
        ):
            session.add(store.Step(AlertStatus.NOTIFIED, now, "alerting", note=note).audit(alert))
        session.add(AlertEventRow(alert_id="a-h-2-1", at=now, status="notified", note=LEGACY_NOTE))
    await world.api.acknowledge(ALERT, actor="张明 (family)", channel="family_link")
    await world.api.resolve(
        ALERT, actor="王芳", channel="dashboard", note="已上门", outcome=Outcome.HELPED_AT_HOME
    )


@pytest.fixture
async def world(engine: AsyncEngine, strict_templates: None) -> AsyncIterator[World]:
    async with dashboard_world(engine) as world:
        await seed(engine, world)
        yield world


STAFF_PAGES = ["/", "/homes", "/homes/h-1", f"/alerts/{ALERT}", "/alerts/a-h-1-2", "/nope"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_every_page_speaks_the_readers_language(world: World, lang: str) -> None:
    pages: dict[str, str] = {}
    async with world.client() as anonymous:
        pages["/login"] = (await anonymous.get("/login", params={"lang": lang})).text
        token = family_token(SECRET, "h-1", "张明", world.clock.now())
        family = await anonymous.get(f"/family/{token}", params={"lang": lang})
        assert family.status_code == 200
        pages["/family"] = family.text
    async with world.client() as staff:
        await logged_in(staff, "staff1")
        for path in STAFF_PAGES:
            response = await staff.get(path, params={"lang": lang})
            assert response.status_code in {200, 404}, (path, response.status_code)
            pages[path] = response.text
    for path, html in pages.items():
        text, _ = visible(html)
        assert not RAW_KEY.search(text), (lang, path, RAW_KEY.findall(text))
        assert not RAW_WORDS.search(text), (lang, path, RAW_WORDS.findall(text))
        if lang == "zh-CN":
            assert "(family)" not in text, path
    home, _ = visible(pages["/homes/h-1"])
    expected = {
        "zh-CN": ("床垫传感器", "客厅", "子女"),
        "en": ("Bed sensor", "Living room", "Child"),
    }
    for word in expected[lang]:
        assert word in home, (lang, word)


def timeline_notes(html: str) -> list[str]:
    """The note cell (the last) of each timeline row."""
    rows = re.findall(
        r"<tr[^>]*>(.*?)</tr>", html.split('id="timeline"')[1].split("</table>")[0], flags=re.S
    )
    return [visible(row.rsplit("<td>", 1)[-1])[0] for row in rows if "<td>" in row]


async def test_the_timeline_reads_naturally_in_both_languages(world: World) -> None:
    async with world.client() as staff:
        await logged_in(staff, "staff1")
        zh = (await staff.get(f"/alerts/{ALERT}", params={"lang": "zh-CN"})).text
        en = (await staff.get(f"/alerts/{ALERT}", params={"lang": "en"})).text
        api = (await staff.get(f"/api/alerts/{ALERT}/timeline")).json()
    zh_notes, en_notes = timeline_notes(zh), timeline_notes(en)
    assert len(zh_notes) == len(en_notes) >= 13
    for note in zh_notes:
        rest = note
        for value in QUOTED:
            rest = rest.replace(value, "")
        assert not LATIN.search(rest), note
    for note in en_notes:
        rest = note
        for value in QUOTED:
            rest = rest.replace(value, "")
        assert not CJK.search(rest), note
    assert "已通知驿站值班人员：王芳" in zh_notes
    assert "Notified station staff: 王芳" in en_notes
    assert "无人确认，告警后 2 分钟 升级通知家属：张明、王芳" in zh_notes
    assert "Nobody acknowledged; 2 min after the alert, escalated to family: 张明, 王芳" in en_notes
    assert "再次触发，已并入本告警；级别由“高”升为“紧急”" in zh_notes
    # who and where, named for the reader
    _, zh_rows = visible(zh, "timeline")
    zh_timeline = " ".join(zh_rows)
    assert "告警服务" in zh_timeline and "检测服务" in zh_timeline and "张明（家属）" in zh_timeline
    assert "家属页面" in zh_timeline and "看板" in zh_timeline
    # the API carries the stored record and both languages
    step = next(s for s in api if s["note_key"] == "tier_first")
    assert step["note"].startswith("tier 0 (station) at T+0s")
    assert step["note_text"] == {
        "zh-CN": "已通知驿站值班人员：王芳",
        "en": "Notified station staff: 王芳",
    }
    assert step["actor_text"] == {"zh-CN": "告警服务", "en": "Alerting service"}
    # a step stored before facts were kept still reads as it was written
    async with world.client() as admin:
        await logged_in(admin, "admin")
        legacy = (await admin.get("/alerts/a-h-2-1", params={"lang": "en"})).text
    assert LEGACY_NOTE in legacy

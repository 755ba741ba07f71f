"""What people read of the daily summaries: the family's week in plain words, and the
notices on a home's page with their chart."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from dashboards.charts import sparkline
from dashboards.week import Line, week_lines
from tests.dashboard_world import dashboard_world, fast_hashing
from tests.test_visits import raise_notice
from tests.test_wellbeing import _days, _noisy_baseline

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)


def test_the_week_in_plain_words() -> None:
    rng = random.Random(5)
    usual = _noisy_baseline(rng, 21)
    week = [{**v, "night_bathroom": rng.choice([2, 2, 3])} for v in _noisy_baseline(rng, 7)]
    lines = week_lines(_days(usual + week))
    assert lines[0] == Line("week.sleep", {"h": 8.0})
    assert lines[1] == Line("week.night_up", {"n": 2}, "week.more_than_usual")
    assert lines[2].key == "week.wake" and lines[2].args["time"] in {"6:15", "6:30", "6:45"}
    assert lines[2].tail is None
    assert lines[3].key == "week.meals" and lines[3].args["n"] in {2, 3}
    # the same nights as usual: no comparison said
    assert week_lines(_days(usual + usual[:7]))[1].tail is None
    # later rising is said too
    later = [{**v, "wake_h": v["wake_h"] + 1.0} for v in usual[:7]]
    assert week_lines(_days(usual + later))[2].tail == "week.later_than_usual"
    # a week mostly away or unseen says nothing rather than something false
    assert week_lines(_days(usual + week[:3])[:-4] + _days(week[:3], first=date(2026, 1, 26))) == []
    assert week_lines([]) == []


def test_a_chart_keeps_every_point_inside_its_box() -> None:
    chart = sparkline([1, 0, None, 2, 4], recent=2, baseline=1.0)
    assert chart is not None and len(chart.dots) == 4
    assert all(0 <= x <= chart.width and 0 <= y <= chart.height for x, y in chart.dots)
    assert chart.dots[-1][1] < chart.dots[0][1]  # higher value, higher on the page
    assert sparkline([None, None], recent=1) is None


async def test_family_page_shows_the_week_and_staff_see_the_notice(engine) -> None:  # type: ignore[no-untyped-def]
    async with dashboard_world(engine) as world:
        # 31 days up to yesterday (the world's today is 2026-11-25 in Shanghai)
        await raise_notice(engine, "h-1", first=date(2026, 10, 25))
        async with world.client(await world.token("family1")) as family:
            page = (await family.get("/homes/h-1")).text
            week = page[page.index('id="week"') :]
            assert "大多数晚上睡了约" in week and "夜里起来约 4 次，比平时多" in week
            english = (await family.get("/homes/h-1", params={"lang": "en"})).text
            assert "Up about 4 times a night, more than usual" in english
        async with world.client(await world.token("staff1")) as staff:
            page = (await staff.get("/homes/h-1")).text
            notices = page[page.index('id="notices"') : page.index('id="visits"')]
            assert "夜间如厕增多" in notices  # the trend, named from the catalogue
            assert "近 5 天每天约" in notices  # alerting's sentence
            points = re.search(r'<polyline points="([^"]+)"', notices)
            (notice,) = await world.api.notices(homes=["h-1"])
            values = notice.evidence["values"]
            assert isinstance(values, list) and len(values) >= 20
            assert points is not None and len(points.group(1).split()) == len(values)
            assert "<script" not in notices

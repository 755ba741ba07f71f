"""Daily summaries from the detector, trends and wellbeing notices in alerting."""

from __future__ import annotations

import base64
import random
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from alerting.api import AlertingApi
from alerting.trends import find_trends
from detector.activity.rule import InactivityRule
from detector.wellbeing import WellbeingRule
from eldercare.clock import SimulatedClock
from eldercare.models import DailySummary, Event, EventType, WellbeingTrend

TZ = ZoneInfo("Asia/Shanghai")
HOME = "h-1"


class Day:
    """Drives the inactivity and wellbeing rules through a scripted day, minute by minute."""

    def __init__(self) -> None:
        self.inactivity = InactivityRule()
        self.rule = WellbeingRule(self.inactivity)
        self.seq = count()
        self.summaries: list[DailySummary] = []
        self.now = datetime(2026, 1, 5, 0, 0, tzinfo=TZ)

    def at(self, day: int, hh: int, mm: int) -> datetime:
        return datetime(2026, 1, 5 + day, hh, mm, tzinfo=TZ)

    def until(self, when: datetime) -> None:
        while self.now < when:
            self.now += timedelta(seconds=60)
            self.inactivity.on_tick(self.now)
            self.summaries += self.rule.on_tick(self.now).summaries

    def event(self, when: datetime, device: str, kind: EventType = EventType.MOTION) -> None:
        self.until(when)
        event = Event(home=HOME, device=device, seq=next(self.seq), ts=when, type=kind)
        self.inactivity.on_event(event, when)
        self.summaries += self.rule.on_event(event, when).summaries


def live_a_day(day: Day, d: int, *, toilet_at_night: int) -> None:
    """Bed at 22:30 the evening before, up at 06:45, three meals, one outing 09:30-11:00."""
    day.event(day.at(d - 1, 22, 30), "bed-bedroom", EventType.BED_OCCUPIED)
    for n in range(toilet_at_night):
        day.event(day.at(d, 1 + n, 0), "bed-bedroom", EventType.BED_EMPTY)
        day.event(day.at(d, 1 + n, 1), "pir-bathroom")
        day.event(day.at(d, 1 + n, 6), "bed-bedroom", EventType.BED_OCCUPIED)
    day.event(day.at(d, 6, 44), "bed-bedroom", EventType.BED_EMPTY)
    day.event(day.at(d, 6, 45), "pir-kitchen")
    day.event(day.at(d, 7, 15), "pir-living")
    day.event(day.at(d, 9, 30), "door-front", EventType.DOOR_OPEN)
    day.event(day.at(d, 9, 31), "door-front", EventType.DOOR_CLOSE)
    day.event(day.at(d, 11, 0), "door-front", EventType.DOOR_OPEN)
    day.event(day.at(d, 11, 1), "door-front", EventType.DOOR_CLOSE)
    day.event(day.at(d, 11, 3), "pir-living")
    day.event(day.at(d, 12, 0), "pir-kitchen")
    day.event(day.at(d, 15, 0), "pir-living")
    day.event(day.at(d, 18, 0), "pir-kitchen")
    day.event(day.at(d, 20, 0), "pir-living")


def test_a_day_is_summed_up_at_the_homes_midnight() -> None:
    day = Day()
    live_a_day(day, 1, toilet_at_night=2)
    day.event(day.at(1, 22, 30), "bed-bedroom", EventType.BED_OCCUPIED)
    day.until(day.at(2, 0, 2))
    summary = day.summaries[-1]
    assert summary.day == date(2026, 1, 6)
    assert summary.sleep_onset_h == 22.5
    assert summary.wake_h == 6.73  # out of bed at 06:44 (the last time this morning)
    assert summary.night_bathroom == 2
    assert 8.0 <= summary.in_bed_h <= 8.3  # 22:30 to 06:44 less two toilet visits
    assert summary.outings == 1 and 1.4 <= summary.out_h <= 1.6
    assert summary.door_uses == 2
    assert summary.meals == 3
    assert summary.activity["kitchen"] == 3 and summary.activity["bathroom"] == 2
    assert not summary.away


def test_a_restarted_detector_keeps_the_days_tallies() -> None:
    day = Day()
    live_a_day(day, 1, toilet_at_night=1)
    restored = WellbeingRule(day.inactivity)
    restored.restore(day.rule.snapshot())
    day.rule = restored
    day.until(day.at(2, 0, 2))
    summary = day.summaries[-1]
    assert (summary.night_bathroom, summary.meals, summary.outings) == (1, 3, 1)


def test_the_tally_of_a_home_is_small() -> None:
    day = Day()
    live_a_day(day, 1, toilet_at_night=1)
    assert len(day.rule.tallies[HOME]) <= 44


def test_a_checkpoint_with_tallies_of_another_size_is_dropped_not_fatal() -> None:
    day = Day()
    live_a_day(day, 1, toilet_at_night=1)
    restored = WellbeingRule(day.inactivity)
    restored.restore(b'{"h-1": "' + base64.b64encode(bytes(40)) + b'"}')
    assert restored.tallies == {}
    day.rule = restored
    live_a_day(day, 2, toilet_at_night=1)  # starts afresh
    day.until(day.at(3, 0, 2))
    assert day.summaries[-1].night_bathroom == 1


def test_without_a_bed_sensor_the_night_ends_when_she_is_up_and_about() -> None:
    """No bed sensor (the real home of docs/wellbeing.md): quiet in the bedroom stands for
    sleep. The evening's bathroom visit between two trips to the bedroom is not a night
    visit; dressing in the bedroom after the morning toilet, or tidying it before noon,
    does not move the wake-up, and the morning's toilet visits are not the night's."""
    day = Day()
    day.event(day.at(0, 3, 0), "pir-bedroom")  # the home sees her sleep in the bedroom
    day.event(day.at(0, 21, 0), "pir-living")
    day.event(day.at(0, 22, 40), "pir-bedroom")  # fetching her glasses
    day.event(day.at(0, 22, 42), "pir-bathroom")  # washing
    day.event(day.at(0, 22, 50), "pir-living")
    day.event(day.at(0, 22, 55), "pir-bedroom")  # to bed
    day.event(day.at(1, 1, 30), "pir-bathroom")
    day.event(day.at(1, 1, 35), "pir-bedroom")
    day.event(day.at(1, 7, 30), "pir-bathroom")  # up
    day.event(day.at(1, 7, 40), "pir-bedroom")  # dressing
    day.event(day.at(1, 7, 50), "pir-bathroom")
    day.event(day.at(1, 7, 55), "pir-kitchen")
    day.event(day.at(1, 11, 30), "pir-bedroom")  # tidying
    day.event(day.at(1, 11, 40), "pir-living")
    day.until(day.at(2, 0, 2))
    summary = day.summaries[-1]
    assert summary.sleep_onset_h == 22.92
    assert summary.wake_h == 7.5
    assert summary.night_bathroom == 1


def test_with_a_bed_sensor_a_toilet_visit_just_before_rising_is_the_nights() -> None:
    """Back in bed for 20 minutes after a toilet visit at 05:50, up at 06:10: the bed
    sensor says she went back to bed, so the visit is the night's and the wake-up 06:10."""
    day = Day()
    day.event(day.at(0, 22, 30), "bed-bedroom", EventType.BED_OCCUPIED)
    day.event(day.at(1, 5, 50), "bed-bedroom", EventType.BED_EMPTY)
    day.event(day.at(1, 5, 51), "pir-bathroom")
    day.event(day.at(1, 5, 56), "bed-bedroom", EventType.BED_OCCUPIED)
    day.event(day.at(1, 6, 10), "bed-bedroom", EventType.BED_EMPTY)
    day.event(day.at(1, 6, 12), "pir-kitchen")
    day.until(day.at(2, 0, 2))
    summary = day.summaries[-1]
    assert (summary.wake_h, summary.night_bathroom) == (6.17, 1)


def _days(values: list[dict[str, float]], first: date = date(2026, 1, 1)) -> list[DailySummary]:
    return [
        DailySummary(
            home=HOME,
            day=first + timedelta(days=n),
            sleep_onset_h=22.5,
            wake_h=v.get("wake_h", 6.5),
            in_bed_h=v.get("in_bed_h", 8.0),
            night_bathroom=int(v.get("night_bathroom", 1)),
            out_h=1.0,
            outings=int(v.get("outings", 2)),
            door_uses=4,
            meals=int(v.get("meals", 3)),
            activity={"kitchen": int(v.get("kitchen", 60)), "living": 80},
        )
        for n, v in enumerate(values)
    ]


def _noisy_baseline(rng: random.Random, n: int) -> list[dict[str, float]]:
    return [
        {
            "night_bathroom": rng.choice([0, 1, 1, 1, 2]),
            "wake_h": rng.gauss(6.5, 0.3),
            "in_bed_h": rng.gauss(8.0, 0.5),
            "outings": rng.choice([1, 2, 2, 3]),
            "meals": rng.choice([3, 3, 3, 2]),
        }
        for _ in range(n)
    ]


def test_more_night_toilet_visits_over_a_week_is_a_trend() -> None:
    rng = random.Random(1)
    worse = [{**v, "night_bathroom": rng.choice([3, 3, 4])} for v in _noisy_baseline(rng, 7)]
    findings = find_trends(_days(_noisy_baseline(rng, 21) + worse))
    assert [f.trend for f in findings] == [WellbeingTrend.NIGHT_BATHROOM_UP]
    finding = findings[0]
    assert finding.recent_mean >= 3 and 0.8 <= finding.baseline_mean <= 1.2
    assert "夜间如厕增多" in finding.zh and "Night-time bathroom visits up" in finding.en
    assert len(finding.values) == 26


def test_later_rising_is_a_trend_but_a_single_bad_night_is_not() -> None:
    rng = random.Random(2)
    later = [{**v, "wake_h": v["wake_h"] + 1.5} for v in _noisy_baseline(rng, 7)]
    assert [f.trend for f in find_trends(_days(_noisy_baseline(rng, 21) + later))] == [
        WellbeingTrend.WAKE_LATER
    ]
    one_bad = _noisy_baseline(rng, 28)
    one_bad[-1] |= {"wake_h": 10.0, "night_bathroom": 5, "in_bed_h": 12, "outings": 0}
    assert find_trends(_days(one_bad)) == []


def test_stable_noisy_days_raise_nothing() -> None:
    rng = random.Random(3)
    days = _days(_noisy_baseline(rng, 200))
    raised = [f.trend for end in range(28, 200) for f in find_trends(days[end - 28 : end])]
    assert len(raised) <= 2, raised  # ~172 checks of six measures


async def test_alerting_stores_days_and_raises_a_notice_once(engine) -> None:  # type: ignore[no-untyped-def]
    clock = SimulatedClock(datetime(2026, 1, 1, tzinfo=UTC))
    api = AlertingApi(engine, clock)
    rng = random.Random(1)
    worse = [{**v, "night_bathroom": 4} for v in _noisy_baseline(rng, 10)]
    raised = []
    for day in _days(_noisy_baseline(rng, 21) + worse):
        clock.set(datetime.combine(day.day + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        raised += await api.record_day(day)
    assert [n.kind for n in raised] == [WellbeingTrend.NIGHT_BATHROOM_UP]
    notice = raised[0]
    assert notice.status == "open" and notice.evidence["recent_mean"] >= 3
    assert "夜间如厕" in notice.explanation["zh-CN"]
    assert [n.notice_id for n in await api.notices(homes=[HOME])] == [notice.notice_id]
    # a redelivered day is stored once and raises nothing again
    assert await api.record_day(day) == []
    stored = await api.days(HOME, day.day + timedelta(days=1), 60)
    assert len(stored) == 31


def test_a_late_morning_toilet_visit_does_not_hide_the_next_nights_visits() -> None:
    """The morning's last toilet visit (11:58, still in the night's tally) must not make
    the first visits of the next night look like the same visit: events in time order,
    so the detector takes every one of them."""
    day = Day()
    day.event(day.at(0, 22, 30), "bed-bedroom", EventType.BED_OCCUPIED)
    day.event(day.at(1, 6, 44), "bed-bedroom", EventType.BED_EMPTY)
    day.event(day.at(1, 6, 45), "pir-kitchen")
    day.event(day.at(1, 11, 58), "pir-bathroom")  # just before the night is set aside
    day.event(day.at(1, 12, 30), "pir-living")
    live_a_day(day, 2, toilet_at_night=2)
    day.until(day.at(3, 0, 2))
    # the 11:58 visit came after the wake-up: not a night visit of either night
    assert [s.night_bathroom for s in day.summaries[-2:]] == [0, 2]

"""The visiting list (探访): ranked by risk with reasons, visits recorded through alerting,
notices closed by a visit that reached the resident, monthly coverage per station."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from alerting.api import (
    AlertingApi,
    AlertView,
    NoticeView,
    Outcome,
    VisitMode,
    VisitOutcome,
    VisitView,
)
from dashboards.visiting import HomeFacts, rank
from eldercare.clock import SimulatedClock
from eldercare.models import AlertKind, AlertStatus, Severity, WellbeingTrend
from tests.dashboard_world import dashboard_world, fast_hashing
from tests.test_wellbeing import _days, _noisy_baseline

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _visit(days_ago: float, outcome: VisitOutcome = VisitOutcome.WELL) -> VisitView:
    at = NOW - timedelta(days=days_ago)
    return VisitView(
        visit_id=1,
        home="h",
        at=at,
        by="staff",
        mode=VisitMode.PHONE,
        outcome=outcome,
        note="",
        recorded_at=at,
    )


def _alert(days_ago: float, outcome: Outcome | None, kind: AlertKind = AlertKind.FALL) -> AlertView:
    at = NOW - timedelta(days=days_ago)
    resolved = outcome is not None
    return AlertView(
        alert_id=f"a-{days_ago}",
        home="h",
        kind=kind,
        severity=Severity.HIGH,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.NOTIFIED,
        raised_at=at,
        updated_at=at,
        acknowledged_by=None,
        acknowledged_at=None,
        resolved_at=at if resolved else None,
        trigger_count=1,
        explanation={},
        evidence=[],
        outcome=outcome,
    )


def _notice(kind: WellbeingTrend) -> NoticeView:
    return NoticeView(
        notice_id=f"n-{kind}",
        home="h",
        kind=kind,
        day=NOW.date(),
        raised_at=NOW,
        status="open",
        explanation={},
        evidence={},
    )


def _score(facts: HomeFacts) -> tuple[float, list[str]]:
    (item,) = rank([facts], NOW)
    return item.score, [reason.key.removeprefix("visits.reason.") for reason in item.reasons]


def test_each_point_has_its_reason() -> None:
    assert _score(HomeFacts("h", "h")) == (4.0, ["never"])
    assert _score(HomeFacts("h", "h", last_contact=_visit(3))) == (0.0, [])
    assert _score(HomeFacts("h", "h", last_contact=_visit(15))) == (2.0, ["days"])
    assert _score(HomeFacts("h", "h", last_contact=_visit(90))) == (4.0, ["days"])  # capped
    concern = HomeFacts("h", "h", last_contact=_visit(2, VisitOutcome.CONCERN))
    assert _score(concern) == (2.0, ["concern"])
    notices = [_notice(WellbeingTrend.NIGHT_BATHROOM_UP), _notice(WellbeingTrend.WAKE_LATER)]
    assert _score(HomeFacts("h", "h", last_contact=_visit(1), notices=notices)) == (
        6.0,
        ["notice", "notice"],
    )
    assert _score(HomeFacts("h", "h", last_contact=_visit(1), devices_offline=5)) == (
        2.0,
        ["offline"],
    )


def test_alerts_count_by_outcome_and_only_since_the_last_contact() -> None:
    alerts = [
        _alert(1, None),  # not resolved yet: 2
        _alert(2, Outcome.HOSPITAL),  # 3
        _alert(3, Outcome.FALSE_ALARM),  # 0.5
        _alert(4, Outcome.HELPED_AT_HOME),  # 2, the fourth: one line "1 more"
        _alert(5, None, AlertKind.DEVICE_OFFLINE),  # counted as offline sensors, not here
        _alert(20, Outcome.HOSPITAL),  # older than two weeks
    ]
    score, reasons = _score(HomeFacts("h", "h", last_contact=_visit(30), alerts=alerts))
    assert score == 4.0 + 2 + 3 + 0.5 + 2
    assert reasons == ["days", "alert", "alert", "alert", "more_alerts"]
    # a contact after them sets them aside
    assert _score(HomeFacts("h", "h", last_contact=_visit(0.5), alerts=alerts)) == (0.0, [])


def test_ties_go_to_the_home_waiting_longest() -> None:
    items = rank(
        [
            HomeFacts("a", "a", last_contact=_visit(8)),
            HomeFacts("b", "b", last_contact=_visit(13)),
            HomeFacts("c", "c", last_contact=_visit(2), devices_offline=1),
        ],
        NOW,
    )
    assert [item.home_id for item in items] == ["b", "a", "c"]


async def raise_notice(engine, home: str, first: date = date(2026, 10, 20)) -> None:  # type: ignore[no-untyped-def]
    """A month of days from ``first`` (before the world's now) whose last ten nights have
    many more toilet visits: alerting raises a notice (its own clock: the world's does not
    go back)."""
    clock = SimulatedClock(datetime.combine(first, datetime.min.time(), tzinfo=UTC))
    api = AlertingApi(engine, clock)
    rng = random.Random(1)
    worse = [{**v, "night_bathroom": 4} for v in _noisy_baseline(rng, 10)]
    for day in _days(_noisy_baseline(rng, 21) + worse, first=first):
        clock.set(datetime.combine(day.day + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        await api.record_day(day.model_copy(update={"home": home}))
    assert [n.kind for n in await api.notices(homes=[home])] == [WellbeingTrend.NIGHT_BATHROOM_UP]


async def test_a_visit_moves_the_home_down_and_closes_its_notices(engine) -> None:  # type: ignore[no-untyped-def]
    async with dashboard_world(engine) as world:
        await raise_notice(engine, "h-1")
        supervisor = world.client(await world.token("sup-east"))
        staff = world.client(await world.token("staff1"))
        async with supervisor, staff:
            before = (await supervisor.get("/api/visits/today")).json()
            assert [item["home_id"] for item in before] == ["h-1", "h-2"]
            assert before[0]["score"] == 3 + 4 + 2  # notice, never visited, open alert
            keys = [reason["key"] for reason in before[0]["reasons"]]
            assert keys == ["visits.reason.notice", "visits.reason.never", "visits.reason.alert"]

            await world.clock.advance(300)
            recorded = await staff.post(
                "/api/homes/h-1/visits",
                json={"mode": "in_person", "outcome": "well", "note": "血压正常"},
            )
            assert recorded.status_code == 201, recorded.text
            assert recorded.json()["notices_closed"] == 1
            assert recorded.json()["visit"]["by"] == "staff1 姓名"

            after = (await supervisor.get("/api/visits/today")).json()
            assert [item["home_id"] for item in after] == ["h-2", "h-1"]
            assert after[1]["score"] == 0 and after[1]["last_contact"]["mode"] == "in_person"
            assert await world.api.notices(homes=["h-1"]) == []
            closed = await world.api.notices(homes=["h-1"], status="closed")
            assert [n.kind for n in closed] == [WellbeingTrend.NIGHT_BATHROOM_UP]

            # a call nobody answered is kept but changes nothing on the list
            unanswered = await supervisor.post(
                "/api/homes/h-2/visits", json={"mode": "phone", "outcome": "not_reached"}
            )
            assert unanswered.status_code == 201 and unanswered.json()["notices_closed"] == 0
            again = (await supervisor.get("/api/visits/today")).json()
            assert [(i["home_id"], i["score"]) for i in again] == [("h-2", 6.0), ("h-1", 0.0)]
            assert [v.outcome for v in await world.api.visits("h-2")] == [VisitOutcome.NOT_REACHED]


async def test_visits_are_scoped_like_alerts(engine) -> None:  # type: ignore[no-untyped-def]
    async with dashboard_world(engine) as world:
        staff = world.client(await world.token("staff1"))
        family = world.client(await world.token("family1"))
        async with staff, family:
            listed = (await staff.get("/api/visits/today")).json()
            assert [item["home_id"] for item in listed] == ["h-1"]
            body = {"mode": "phone", "outcome": "well"}
            assert (await staff.post("/api/homes/h-2/visits", json=body)).status_code == 404
            assert (await family.post("/api/homes/h-1/visits", json=body)).status_code == 403
            assert (await family.get("/api/visits/today")).status_code == 403
            future = {**body, "at": (world.clock.now() + timedelta(hours=1)).isoformat()}
            assert (await staff.post("/api/homes/h-1/visits", json=future)).status_code == 422
        assert await world.api.visits("h-2") == []


async def test_monthly_coverage_per_station(engine) -> None:  # type: ignore[no-untyped-def]
    async with dashboard_world(engine) as world:
        api = world.api
        # 2026-10-31 23:00 in Shanghai is still October there (15:00 UTC)
        october = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
        await api.record_visit(
            "h-1", by="a", mode=VisitMode.PHONE, outcome=VisitOutcome.WELL, at=october
        )
        await api.record_visit(
            "h-1", by="a", mode=VisitMode.IN_PERSON, outcome=VisitOutcome.CONCERN
        )
        await api.record_visit("h-1", by="a", mode=VisitMode.PHONE, outcome=VisitOutcome.WELL)
        await api.record_visit(
            "h-2", by="b", mode=VisitMode.PHONE, outcome=VisitOutcome.NOT_REACHED
        )
        rows = {row.station: row for row in await api.visit_coverage(month="2026-11")}
        assert set(rows) == {"s-1", "s-2", "s-3"}  # h-x has no station
        s1, s2 = rows["s-1"], rows["s-2"]
        assert (s1.homes, s1.reached, s1.coverage, s1.in_person, s1.phone) == (1, 1, 1.0, 1, 1)
        assert (s2.reached, s2.coverage, s2.not_reached, s2.unreached_homes) == (0, 0.0, 1, ["h-2"])
        assert (await api.visit_coverage(month="2026-10", station="s-1"))[0].phone == 1

        async with world.client(await world.token("staff1")) as staff:
            answer = await staff.get("/api/visits/coverage", params={"month": "2026-11"})
            assert [row["station"] for row in answer.json()] == ["s-1"]
            assert (
                await staff.get("/api/visits/coverage", params={"month": "11/2026"})
            ).status_code == 422
            page = await staff.get("/visits/coverage", params={"month": "2026-11", "lang": "en"})
            assert page.status_code == 200 and "Monthly visit coverage" in page.text
            assert 'data-station="s-1"' in page.text and 'data-station="s-2"' not in page.text


async def test_the_visiting_page_says_why(engine) -> None:  # type: ignore[no-untyped-def]
    async with dashboard_world(engine) as world, world.client(await world.token("staff1")) as staff:
        page = await staff.get("/visits")
        assert page.status_code == 200
        assert "尚无探访或电话记录" in page.text and "近期告警：一键呼叫，未结案" in page.text
        english = await staff.get("/visits", params={"lang": "en"})
        assert "Never visited or called" in english.text

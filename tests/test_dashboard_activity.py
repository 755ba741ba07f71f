"""The resident's day comes from stored activity: it survives a dashboard restart, on both
databases; old rows are pruned; the alert page's hour before is read from the rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from dashboards.activity_log import RETENTION, ActivityLog
from dashboards.activity_store import Activity
from dashboards.app import create_app
from dashboards.day import resident_day
from dashboards.stream import Broadcaster
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine
from eldercare.db.models import DeviceRow, HomeActivityRow, HomeRow
from eldercare.models import Event, EventType
from eldercare.topics import Topics
from eldercare.urgent_work import UrgentWork
from tests.dashboard_world import (
    SECRET,
    START,
    World,
    build_registry,
    dashboard_world,
    fast_hashing,
)

pytestmark = pytest.mark.usefixtures(fast_hashing.__name__)

SHANGHAI = timedelta(hours=8)
ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 25)  # START is 08:30 in Shanghai
ROOMS = {
    "pir-bedroom": "bedroom",
    "bed": "bedroom",
    "pir-bathroom": "bathroom",
    "pir-kitchen": "kitchen",
}
#: (local day, local time, device, event): a day and a night of one resident in h-1.
LIFE = [
    (-1, "08:00", "pir-kitchen", EventType.MOTION),
    (-1, "09:00", "pir-bathroom", EventType.MOTION),
    (-1, "09:05", "btn-hall", EventType.CANCEL_BUTTON),
    (-1, "22:00", "bed", EventType.BED_OCCUPIED),
    (0, "03:00", "bed", EventType.BED_EMPTY),
    (0, "03:01", "pir-bathroom", EventType.MOTION),
    (0, "03:06", "pir-bedroom", EventType.MOTION),
    (0, "03:08", "bed", EventType.BED_OCCUPIED),
    (0, "06:50", "bed", EventType.BED_EMPTY),
    (0, "06:55", "pir-bathroom", EventType.MOTION),
    (0, "07:10", "pir-kitchen", EventType.MOTION),
    (0, "07:40", "pir-kitchen", EventType.SMOKE),  # a hazard, not a place
    (0, "08:00", "pir-kitchen", EventType.MOTION),
    (0, "08:20", "pir-living", EventType.MOTION),
]


def local(day: int, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    midnight = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - SHANGHAI
    return midnight + timedelta(days=day, hours=hour, minutes=minute)


async def live_a_day(world: World, engine: AsyncEngine) -> None:
    """Install the devices, then feed the day through the bus consumer and store it."""
    async with async_sessionmaker(engine).begin() as session:
        for device, room in ROOMS.items():
            session.add(DeviceRow(home_id="h-1", id=device, kind="k", room=room, created_at=START))
    board = world.app.state.context.activity  # type: ignore[attr-defined]
    topics = Topics()
    for seq, (day, clock, device, kind) in enumerate(LIFE):
        event = Event(home="h-1", device=device, seq=seq, ts=local(day, clock), type=kind)
        await board.handle(topics.normalised("h-1", device, "event"), event.to_json())
    await board.log.flush()


def shown(spans: list[dict]) -> list[tuple[str, str]]:
    to_local = lambda iso: datetime.fromisoformat(iso).astimezone(ZONE).strftime("%H:%M")  # noqa: E731
    return [(to_local(span["start"]), to_local(span["end"])) for span in spans]


async def test_the_day_survives_a_dashboard_restart(engine, db_url) -> None:
    async with dashboard_world(engine) as world:
        await live_a_day(world, engine)
        token = await world.token("staff1")

    # A new dashboard process: its own engine, nothing in memory, the same database.
    engine_again = create_engine(db_url)
    try:

        async def nowhere(update: object) -> None:
            raise AssertionError("nothing is published here")

        world.app = create_app(
            world.api,
            Broadcaster(),
            nowhere,
            engine=engine_again,
            clock=world.clock,
            signing_key=SECRET,
        )
        async with world.client(token) as client:
            yesterday = (
                await client.get("/api/homes/h-1/day", params={"day": "2026-11-24"})
            ).json()
            assert yesterday["events"] == 4
            rooms = {room["room"]: shown(room["spans"]) for room in yesterday["rooms"]}
            assert rooms == {
                "kitchen": [("08:00", "08:15")],
                "bathroom": [("09:00", "09:05")],
                "hall": [("09:05", "09:20")],
                "bedroom": [("22:00", "00:00")],  # in bed: occupied until she gets up
            }
            assert shown(yesterday["bathroom_visits"]) == [("09:00", "09:05")]
            assert yesterday["sleep"] is None  # the night before it was not recorded

            today = (await client.get("/api/homes/h-1/day")).json()
            assert today["day"] == "2026-11-25"
            assert today["sleep"]["source"] == "bed"
            assert shown([today["sleep"]]) == [("22:00", "06:50")]  # the 03:00 trip is inside
            assert shown(today["bathroom_visits"]) == [("03:01", "03:06"), ("06:55", "07:10")]
            rooms = {room["room"]: shown(room["spans"]) for room in today["rooms"]}
            assert rooms["bedroom"] == [("00:00", "03:01"), ("03:06", "06:55")]
            assert rooms["kitchen"] == [("07:10", "07:25"), ("08:00", "08:15")]
            assert rooms["living_room"] == [("08:20", "08:30")]  # up to now
            assert today["last_seen_device"] == "pir-living"

            homes = {h["home_id"]: h for h in (await client.get("/api/homes")).json()["items"]}
            assert datetime.fromisoformat(homes["h-1"]["last_activity"]) == local(0, "08:20")

            page = (await client.get("/homes/h-1")).text
            assert "22:00 – 06:50" in page and "卧室" in page and "卫生间" in page

            # The call-button alert at 08:30: the hour before comes from the stored rows.
            alert_page = (await client.get("/alerts/a-h-1-1", params={"lang": "en"})).text
            sensors = alert_page.split('id="sensors"')[1].split("</table>")[0]
            assert sensors.count("<tr>") == 3
            assert "pir-kitchen" in sensors and "pir-living" in sensors and "smoke" in sensors
            assert "07:10" not in sensors

            for day in ("2026-11-17", "2026-11-26"):  # beyond the retention, the future
                too_far = await client.get("/api/homes/h-1/day", params={"day": day})
                assert too_far.status_code == 422
        async with world.client(await world.token("staff2")) as other:
            assert (await other.get("/api/homes/h-1/day")).status_code == 404
    finally:
        await engine_again.dispose()


async def count_rows(engine: AsyncEngine) -> int:
    async with async_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(HomeActivityRow)) or 0)


async def test_rows_are_written_once_and_pruned_after_the_retention(engine) -> None:
    await build_registry(engine, START)
    clock = SimulatedClock(START)
    first, second = ActivityLog(engine, clock), ActivityLog(engine, clock)
    old = Event(home="h-1", device="pir-living", seq=1, ts=START, type=EventType.MOTION)
    for log in (first, second, first):  # two dashboards heard it, one of them twice
        log.record(old)
        await log.flush()
    assert await count_rows(engine) == 1

    clock.set(START + RETENTION + timedelta(minutes=1))
    fresh = old.model_copy(update={"seq": 2, "ts": clock.now()})
    first.record(fresh)
    first.record(old)  # arrives late, already past the retention: not stored again
    await first.flush()
    assert await count_rows(engine) == 2
    await first.prune()
    assert await count_rows(engine) == 1
    async with async_sessionmaker(engine)() as session:
        latest = await first.latest(session, ["h-1", "h-2"])
    assert latest == {
        "h-1": Activity("h-1", clock.now(), "pir-living", EventType.MOTION, "living_room")
    }


async def test_the_run_loop_flushes_prunes_and_survives_a_database_error(engine) -> None:
    clock = SimulatedClock(START)
    log = ActivityLog(engine, clock)
    log.record(Event(home="h-1", device="d", seq=1, ts=START, type=EventType.MOTION))

    async def broken() -> None:
        raise OSError("database away")

    flush, log.flush = log.flush, broken  # type: ignore[method-assign]
    task = asyncio.create_task(log.run())
    await clock.advance(5)
    assert not task.done() and await count_rows(engine) == 0  # logged, still running
    log.flush = flush  # type: ignore[method-assign]
    await clock.advance(5)
    async with asyncio.timeout(10):  # the flush does real I/O after the clock woke it
        while await count_rows(engine) == 0:
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_writer_waits_while_an_alert_update_is_handled(engine) -> None:
    """Its flushes step aside for the wall's updates (issue 18, ``eldercare.urgent_work``)."""
    clock = SimulatedClock(START)
    urgent = UrgentWork()
    log = ActivityLog(engine, clock, urgent)
    log.record(Event(home="h-1", device="d", seq=1, ts=START, type=EventType.MOTION))
    task = asyncio.create_task(log.run())
    try:
        end = urgent.begin()
        await clock.advance(5)
        await asyncio.sleep(0.2)  # what a flush woken by the clock would take, and more
        assert await count_rows(engine) == 0, "written while an update was handled"
        end()
        async with asyncio.timeout(10):
            while await count_rows(engine) == 0:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_sleep_without_a_bed_sensor_is_the_quiet_after_the_bedroom() -> None:
    def at(day: int, clock: str, room: str, kind: EventType = EventType.MOTION) -> Activity:
        return Activity("h-1", local(day, clock), f"pir-{room}", kind, room)

    night = [
        at(-1, "21:40", "bedroom"),
        at(0, "02:10", "bathroom"),
        at(0, "02:15", "bedroom"),
        at(0, "06:30", "kitchen"),
    ]
    day = resident_day(
        "h-1", TODAY, "Asia/Shanghai", night, local(0, "09:00"), last_seen=None, truncated=False
    )
    assert day.sleep is not None and day.sleep.source == "bedroom"
    assert (day.sleep.start, day.sleep.end) == (local(-1, "21:40"), local(0, "06:30"))
    assert [v.start for v in day.bathroom_visits] == [local(0, "02:10")]
    restless = [at(-1, "23:00", "bedroom"), at(-1, "23:10", "living_room")]
    assert (
        resident_day(
            "h-1",
            TODAY,
            "Asia/Shanghai",
            restless,
            local(0, "09:00"),
            last_seen=None,
            truncated=False,
        ).sleep
        is None
    )


async def test_a_home_in_another_time_zone_has_its_own_days(engine) -> None:
    """Midnight and the hours of the day view are the home's, not the station's."""
    berlin = ZoneInfo("Europe/Berlin")
    async with dashboard_world(engine) as world:
        async with async_sessionmaker(engine).begin() as session:
            await session.execute(
                update(HomeRow).where(HomeRow.id == "h-1").values(timezone="Europe/Berlin")
            )
        await live_a_day(world, engine)
        async with world.client(await world.token("staff1")) as client:
            today = (await client.get("/api/homes/h-1/day")).json()
            page = (await client.get("/homes/h-1")).text
    assert today["timezone"] == "Europe/Berlin"
    assert datetime.fromisoformat(today["start"]) == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)
    kitchen = next(room["spans"] for room in today["rooms"] if room["room"] == "kitchen")
    in_berlin = [
        tuple(
            datetime.fromisoformat(span[k]).astimezone(berlin).strftime("%H:%M")
            for k in ("start", "end")
        )
        for span in kitchen
    ]
    assert in_berlin == [("00:10", "00:25"), ("01:00", "01:15")]  # 07:10 and 08:00 in Shanghai
    assert "00:10 – 00:25" in page

"""The live wall's alert updates: household read at most once a minute per home, the
placement (who may see the alert) read fresh for every update (issue 18)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting.api import AlertingApi
from dashboards.recent_households import FRESH, RecentHouseholds
from dashboards.scope import Placement
from dashboards.service import UpdateFeed
from dashboards.stream import Broadcaster
from eldercare.clock import SimulatedClock
from eldercare.db.models import HomeRow
from eldercare.models import AlertStatus, AlertUpdate
from tests.dashboard_world import START, build_registry, call_button_alert


class Recording(Broadcaster):
    """What the feed would send to the walls, and where."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[dict[str, object], Placement]] = []

    def publish(self, event: str, data: dict[str, object], placement: Placement) -> None:
        self.sent.append((data, placement))


async def test_an_update_reads_the_household_once_a_minute_and_the_placement_every_time(
    engine: AsyncEngine,
) -> None:
    clock = SimulatedClock(START)
    await build_registry(engine, clock.now())
    api = AlertingApi(engine, clock)
    alert = call_button_alert("h-1", clock.now())
    await api.record(alert)
    walls = Recording()
    feed = UpdateFeed(api, walls, engine, clock)
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, sql, *_rest: statements.append(sql),
    )

    async def push(status: AlertStatus) -> tuple[dict[str, object], Placement, int]:
        statements.clear()
        message = AlertUpdate(alert_id=alert.alert_id, home="h-1", status=status, at=clock.now())
        assert await feed.handle("updates", message.to_json()) == []
        data, placement = walls.sent[-1]
        return data, placement, len(statements)

    first, placement, cold = await push(AlertStatus.OPEN)
    assert placement.station_id == "s-1"
    household = first["alert"]["household"]  # type: ignore[index]
    assert household["name"]
    async with async_sessionmaker(engine).begin() as session:  # renamed and moved station
        await session.execute(
            update(HomeRow).where(HomeRow.id == "h-1").values(name="新名字", station_id="s-2")
        )

    clock.set(clock.now() + FRESH - timedelta(seconds=1))
    second, placement, warm = await push(AlertStatus.ACKNOWLEDGED)
    assert placement.station_id == "s-2", "who may see it: never from a copy"
    assert second["alert"]["household"] == household  # type: ignore[index]
    assert warm <= cold - 3, "the household's three queries are not repeated within a minute"

    clock.set(clock.now() + timedelta(seconds=1))
    third, _, again = await push(AlertStatus.ACKNOWLEDGED)
    assert third["alert"]["household"]["name"] == "新名字"  # type: ignore[index]
    assert again == cold


async def test_the_copies_are_swept_once_stale_so_homes_that_come_and_go_do_not_pile_up(
    engine: AsyncEngine,
) -> None:
    clock = SimulatedClock(START)
    await build_registry(engine, clock.now())
    copies = RecentHouseholds(clock)
    sessions = async_sessionmaker(engine)
    for minute in range(5):  # a new home's update each minute, an unknown one too
        async with sessions() as session:
            await copies.of(session, [f"h-{minute + 1}", f"gone-{minute}"])
        assert len(copies) <= 4, "only the last two minutes' homes are kept"
        clock.set(clock.now() + FRESH)

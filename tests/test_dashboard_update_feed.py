"""The live wall's alert updates: three queries each, new home or not, with the placement
(who may see the alert) and the household read fresh in one of them; different alerts'
updates side by side, one alert's in order (issue 18)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiomqtt
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting.api import AlertingApi, AlertView
from dashboards.homes import contact_view, placed_households, resident_view
from dashboards.schemas import Household
from dashboards.scope import Placement, placement_of
from dashboards.service import UpdateFeed
from dashboards.stream import Broadcaster
from eldercare.broker import LocalMosquitto
from eldercare.bus import MqttConnection
from eldercare.clock import SimulatedClock
from eldercare.db.models import ContactRow, HomeRow, ResidentRow
from eldercare.models import Alert, AlertStatus, AlertUpdate, DeadLetter
from eldercare.settings import Settings
from gateway import registry_api
from tests.dashboard_world import START, build_registry, call_button_alert
from tests.harness import running


class Recording(Broadcaster):
    """What the feed would send to the walls, and where."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[dict[str, object], Placement]] = []

    def publish(self, event: str, data: dict[str, object], placement: Placement) -> None:
        self.sent.append((data, placement))


async def test_an_update_is_three_queries_with_placement_and_household_read_fresh(
    engine: AsyncEngine,
) -> None:
    """A new home's first update read its household cold: six queries, each answer waiting
    for a turn of the busy loop (issue 18). Now three, the first update as every other."""
    clock = SimulatedClock(START)
    await build_registry(engine, clock.now())
    api = AlertingApi(engine, clock)
    alert = call_button_alert("h-1", clock.now())
    await api.record(alert)
    walls = Recording()
    feed = UpdateFeed(api, walls, engine)
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
        await feed.shown()
        data, placement = walls.sent[-1]
        return data, placement, len(statements)

    first, placement, cold = await push(AlertStatus.OPEN)
    assert cold == 3
    assert placement.station_id == "s-1"
    household = first["alert"]["household"]  # type: ignore[index]
    assert household["name"] and household["residents"] and household["contact"]
    async with async_sessionmaker(engine).begin() as session:  # renamed and moved station
        await session.execute(
            update(HomeRow).where(HomeRow.id == "h-1").values(name="新名字", station_id="s-2")
        )
    second, placement, warm = await push(AlertStatus.ACKNOWLEDGED)
    assert placement.station_id == "s-2", "who may see it: never from a copy"
    assert second["alert"]["household"]["name"] == "新名字"  # type: ignore[index]
    assert warm == 3


async def test_placed_households_are_what_the_separate_reads_give(engine: AsyncEngine) -> None:
    """Residents by id, the first contact by position then id, a home with nobody in it,
    and an unknown home left out: the same as placement, homes, residents and contacts
    read one by one."""
    clock = SimulatedClock(START)
    await build_registry(engine, clock.now())
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        session.add(ResidentRow(home_id="h-1", name="张爷爷", birth_year=1938, care_notes=""))
        session.add(ContactRow(home_id="h-1", name="李华", relation="女儿", position=0))
        session.add(ContactRow(home_id="h-1", name="王五", relation="邻居", position=0))
        await session.execute(ResidentRow.__table__.delete().where(ResidentRow.home_id == "h-2"))
        await session.execute(ContactRow.__table__.delete().where(ContactRow.home_id == "h-2"))
    wanted = ["h-1", "h-2", "h-3", "nowhere"]
    async with sessions() as session:
        placed = await placed_households(session, wanted)
        expected: dict[str, tuple[Placement | None, Household]] = {}
        for home in await registry_api.homes(session, wanted):
            contacts = await registry_api.contacts(session, home.id)
            expected[home.id] = (
                await placement_of(session, home.id),
                Household(
                    name=home.name or home.id,
                    address=home.address,
                    residents=[
                        resident_view(r) for r in await registry_api.residents(session, home.id)
                    ],
                    contact=contact_view(contacts[0]) if contacts else None,
                ),
            )
    assert placed == expected
    assert [r.name for r in placed["h-1"][1].residents] == ["张奶奶", "张爷爷"]
    assert placed["h-1"][1].contact is not None and placed["h-1"][1].contact.name == "李华"
    assert placed["h-2"][1].residents == [] and placed["h-2"][1].contact is None
    assert "nowhere" not in placed


async def two_alerts_fed(
    engine: AsyncEngine, api_for: Callable[[SimulatedClock, str], AlertingApi]
) -> tuple[Alert, Alert, Recording, UpdateFeed]:
    """Two homes' call-button alerts stored through ``api_for(clock, first alert's id)``, and
    a feed reading them through it to recorded walls."""
    clock = SimulatedClock(START)
    await build_registry(engine, clock.now())
    first, second = call_button_alert("h-1", clock.now()), call_button_alert("h-2", clock.now())
    api = api_for(clock, first.alert_id)
    for alert in (first, second):
        await api.record(alert)
    walls = Recording()
    return first, second, walls, UpdateFeed(api, walls, engine)


class FirstReadSlow(AlertingApi):
    """The first read of ``slow`` takes as long as under load; every other is quick."""

    def __init__(self, *args: object, slow: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.slow: str | None = slow

    async def get(self, alert_id: str, *, responder_info: bool = False) -> AlertView:
        if alert_id == self.slow:
            self.slow = None
            await asyncio.sleep(0.3)
        return await super().get(alert_id, responder_info=responder_info)


async def test_another_alerts_update_does_not_wait_and_one_alerts_keep_their_order(
    engine: AsyncEngine,
) -> None:
    """A press's update waited up to ~150 ms behind the previous alert's "notified" (issue
    18): here alert A's first update is slow to read; B's goes out first, and A's second
    update still only after its first."""
    first, second, walls, feed = await two_alerts_fed(
        engine, lambda clock, first: FirstReadSlow(engine, clock, slow=first)
    )
    for alert, status in (
        (first, AlertStatus.NOTIFIED),
        (first, AlertStatus.ACKNOWLEDGED),
        (second, AlertStatus.OPEN),
    ):
        message = AlertUpdate(alert_id=alert.alert_id, home=alert.home, status=status, at=START)
        await feed.handle("updates", message.to_json())
    await feed.shown()
    shown = [
        (data["update"]["alert_id"], data["update"]["status"])  # type: ignore[index]
        for data, _ in walls.sent
    ]
    assert shown == [
        (second.alert_id, "open"),
        (first.alert_id, "notified"),
        (first.alert_id, "acknowledged"),
    ]


class Broken(AlertingApi):
    """Reading ``broken`` fails with a bug (not the database away); every other is fine."""

    def __init__(self, *args: object, broken: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.broken = broken

    async def get(self, alert_id: str, *, responder_info: bool = False) -> AlertView:
        if alert_id == self.broken:
            raise ValueError("no code path takes this")
        return await super().get(alert_id, responder_info=responder_info)


async def test_an_update_that_fails_for_good_is_a_dead_letter_and_the_rest_are_shown(
    engine: AsyncEngine, mosquitto: LocalMosquitto, tmp_path: Path
) -> None:
    """An update is acknowledged once started, so the bus can no longer set it aside: the
    feed does, on the session it came on, as the bus would have (a visible dead letter), and
    other alerts' updates are shown."""
    bad, good, walls, feed = await two_alerts_fed(
        engine, lambda clock, first: Broken(engine, clock, broken=first)
    )
    settings = Settings(broker_url=mosquitto.url, data_dir=tmp_path, log_level="WARNING")
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as operator:
        await operator.subscribe(settings.topics.all_dead_letters_filter, qos=1)
        connection = MqttConnection(settings, "wall", [], lambda _t, _p: asyncio.sleep(0, []))
        async with running(connection):
            feed.connection = connection
            for alert in (bad, good):
                message = AlertUpdate(
                    alert_id=alert.alert_id, home=alert.home, status=AlertStatus.OPEN, at=START
                )
                await feed.handle("updates", message.to_json())
            await feed.shown()
            async with asyncio.timeout(10):
                received = await anext(aiter(operator.messages))
    record = DeadLetter.model_validate_json(received.payload)  # type: ignore[arg-type]
    assert record.service == "wall" and record.topic == "updates"
    assert bad.alert_id in record.payload and record.error_type == "builtins.ValueError"
    assert connection.dead_letters == 1
    assert [data["update"]["alert_id"] for data, _ in walls.sent] == [good.alert_id]  # type: ignore[index]

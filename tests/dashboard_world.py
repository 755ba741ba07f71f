"""A small world for dashboard tests: two centres, three stations, homes, users, alerts.

centre c-east ── station s-1 ── home h-1
             └── station s-2 ── home h-2
centre c-west ── station s-3 ── home h-3
(no station)                    home h-x
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting.api import AlertingApi
from dashboards import accounts
from dashboards.accounts import add_user
from dashboards.app import create_app
from dashboards.principal import Role
from dashboards.service import web_server
from dashboards.stream import Broadcaster
from eldercare.broker import free_port
from eldercare.clock import SimulatedClock
from eldercare.db.models import ContactRow, DeviceRow, HomeRow, ResidentRow, StationRow
from eldercare.models import Alert, AlertKind, AlertUpdate, Evidence, LocalizedText, Severity
from eldercare.settings import Settings
from simulator.demo_people import PEOPLE, STATION_PHONE, relative_phone

PASSWORD = "correct horse battery"
SECRET = b"k" * 32
START = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai

STATIONS = [
    ("c-east", "centre", None),
    ("c-west", "centre", None),
    ("s-1", "station", "c-east"),
    ("s-2", "station", "c-east"),
    ("s-3", "station", "c-west"),
]
HOMES = {"h-1": "s-1", "h-2": "s-2", "h-3": "s-3", "h-x": None}
USERS = {
    "staff1": (Role.STAFF, "s-1", None),
    "staff2": (Role.STAFF, "s-2", None),
    "staff3": (Role.STAFF, "s-3", None),
    "sup-east": (Role.SUPERVISOR, "c-east", None),
    "sup-west": (Role.SUPERVISOR, "c-west", None),
    "family1": (Role.FAMILY, None, "h-1"),
    "admin": (Role.ADMIN, None, None),
}
#: Which homes each user must see, and nothing else.
SEES = {
    "staff1": {"h-1"},
    "staff2": {"h-2"},
    "staff3": {"h-3"},
    "sup-east": {"h-1", "h-2"},
    "sup-west": {"h-3"},
    "family1": {"h-1"},
    "admin": {"h-1", "h-2", "h-3", "h-x"},
}


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest cost: tests check the logic, not the work factor."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


async def build_registry(engine: AsyncEngine, now: datetime) -> None:
    """Stations, homes (with a resident, a contact, devices) and one user per role."""
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        for station_id, kind, centre in STATIONS:
            session.add(
                StationRow(
                    id=station_id,
                    name=f"{station_id} 驿站",
                    kind=kind,
                    centre_id=centre,
                    created_at=now,
                )
            )
            await session.flush()
        for home_id, station_id in HOMES.items():
            session.add(
                HomeRow(
                    id=home_id,
                    name=f"{home_id} 张奶奶家",
                    station_id=station_id,
                    address="幸福路 1 号",
                    created_at=now,
                )
            )
            await session.flush()
            session.add(
                ResidentRow(home_id=home_id, name="张奶奶", birth_year=1940, care_notes="高血压")
            )
            session.add(ContactRow(home_id=home_id, name="张明", relation="儿子", position=1))
            for device, kind, room in (
                ("btn-hall", "call_button", "hall"),
                ("pir-living", "motion", "living_room"),
            ):
                session.add(
                    DeviceRow(home_id=home_id, id=device, kind=kind, room=room, created_at=now)
                )
        await session.flush()
        for username, (role, station_id, home_id) in USERS.items():
            await add_user(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                now=now,
                display_name=f"{username} 姓名",
                station_id=station_id,
                home_id=home_id,
            )


def call_button_alert(home_id: str, at: datetime, number: int = 1) -> Alert:
    return Alert(
        alert_id=f"a-{home_id}-{number}",
        home=home_id,
        kind=AlertKind.CALL_BUTTON,
        severity=Severity.CRITICAL,
        raised_at=at,
        evidence=[Evidence(device="btn-hall", seq=number, type="call_button")],
        explanation=LocalizedText(
            **{"zh-CN": "门厅呼叫按钮被按下", "en": "Hall call button pressed"}
        ),
    )


@dataclass
class World:
    app: object
    api: AlertingApi
    clock: SimulatedClock
    broadcaster: Broadcaster
    published: list[AlertUpdate] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),  # type: ignore[arg-type]
            base_url="http://dashboard.test",
            headers=headers,
        )

    async def token(self, username: str) -> str:
        async with self.client() as client:
            response = await client.post(
                "/api/session", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 201, response.text
            return str(response.json()["token"])


@contextlib.asynccontextmanager
async def dashboard_world(engine: AsyncEngine, **app_options: bool) -> AsyncIterator[World]:
    """The registry, one open call-button alert per home, and the app over ASGI
    (``app_options``: ``create_app``'s switches, as production sets them)."""
    clock = SimulatedClock(START)
    await build_registry(engine, clock.now())
    api = AlertingApi(engine, clock)
    for home_id in HOMES:
        await api.record(call_button_alert(home_id, clock.now()))
    broadcaster = Broadcaster()
    published: list[AlertUpdate] = []

    async def publish(update: AlertUpdate) -> None:
        published.append(update)

    app = create_app(
        api, broadcaster, publish, engine=engine, clock=clock, signing_key=SECRET, **app_options
    )
    yield World(app=app, api=api, clock=clock, broadcaster=broadcaster, published=published)


async def seed_stations(
    db_url: str, placements: dict[str, str], users: dict[str, tuple[str, str]], now: datetime
) -> None:
    """Before ``running_system``: stations s-1/s-2 under centre c-east, the homes placed in
    them (registration keeps a home's station) with the demo's people (a resident, an
    address, a relative), and staff ``username -> (name, station)``."""
    from eldercare.db import create_engine, migrate

    engine = create_engine(db_url)
    try:
        await migrate(engine)
        async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
            session.add(StationRow(id="c-east", name="东区中心", kind="centre", created_at=now))
            await session.flush()
            for station_id in sorted(set(placements.values())):
                session.add(
                    StationRow(
                        id=station_id,
                        name=f"{station_id} 驿站",
                        kind="station",
                        centre_id="c-east",
                        phone=STATION_PHONE,
                        created_at=now,
                    )
                )
            await session.flush()
            for index, (home_id, station_id) in enumerate(placements.items()):
                resident, born, notes, street, relative, relation = PEOPLE[index % len(PEOPLE)]
                session.add(
                    HomeRow(
                        id=home_id,
                        name=f"{resident}家",
                        station_id=station_id,
                        address=street,
                        created_at=now,
                    )
                )
                await session.flush()
                session.add(
                    ResidentRow(home_id=home_id, name=resident, birth_year=born, care_notes=notes)
                )
                session.add(
                    ContactRow(
                        home_id=home_id,
                        name=relative,
                        relation=relation,
                        phone=relative_phone(index),
                        position=1,
                    )
                )
            await session.flush()
            for username, (name, station_id) in users.items():
                await add_user(
                    session,
                    username=username,
                    password=PASSWORD,
                    role=Role.STAFF,
                    now=now,
                    display_name=name,
                    station_id=station_id,
                )
    finally:
        await engine.dispose()


async def log_in(client: httpx.AsyncClient, username: str) -> None:
    """Log ``client`` in; its cookie jar then carries the session like a browser's."""
    response = await client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text


@contextlib.asynccontextmanager
async def served(app: object, **settings: object) -> AsyncIterator[str]:
    """``app`` over real HTTP on a free port, as the service serves it; yields its base URL.
    For what only a real server shows: browsers, and the peer address uvicorn hands on."""
    config = Settings(http_port=free_port(), **settings)  # type: ignore[arg-type]
    server = web_server(app, config)  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve_until_cancelled())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"http://{config.http_host}:{config.http_port}"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

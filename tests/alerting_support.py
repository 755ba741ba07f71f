"""Shared pieces of the alerting tests: a real HTTP webhook receiver and a small registry.

The receiver is a real socket server (apprise's ``json://`` posts to it over TCP), so a
test sees exactly what a station's webhook endpoint would: headers, body, and when.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting.api import AlertingApi
from chaos.sockets import LocalSocketServer
from dashboards.activity import ActivityBoard
from dashboards.activity_log import ActivityLog
from dashboards.context import DashboardContext, PublishUpdate
from dashboards.routes import ack
from dashboards.stream import Broadcaster
from eldercare.clock import Clock
from eldercare.db.models import ContactRow, HomeRow, ResidentRow, StaffRow, StationRow
from eldercare.models import Alert, AlertKind, Evidence, LocalizedText, Severity
from eldercare.topics import Topics

#: The audit timeline of an alert that climbs station → family → centre and is then taken by
#: the centre: raised, two station notices, five escalation notices, the ack and the three
#: "someone has it" notices to those already asked.
CLIMB_TO_CENTRE_THEN_ACK = [
    "open",
    *["notified"] * 2,
    *["escalated"] * 5,
    *["acknowledged"] * 4,
]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float  # time.monotonic() on arrival

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")


@dataclass
class WebhookReceiver(LocalSocketServer):
    """``async with WebhookReceiver() as hooks``: POSTs land in ``hooks.received``.

    Paths listed in ``failing`` answer 503, to prove failover and retries.
    """

    failing: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition | None = None

    async def __aenter__(self) -> Self:
        self._arrived = asyncio.Condition()
        return await super().__aenter__()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path.lstrip('/')}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode()
            headers: dict[str, str] = {}
            while (line := (await reader.readline()).decode().strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            path = request_line.split()[1].split("?")[0]
            status = "503 Service Unavailable" if path in self.failing else "200 OK"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
            if path not in self.failing:
                assert self._arrived is not None
                async with self._arrived:
                    self.received.append(
                        Received(path, headers, json.loads(body or b"{}"), time.monotonic())
                    )
                    self._arrived.notify_all()
        finally:
            writer.close()

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10) -> list[Received]:
        assert self._arrived is not None
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.to(path)) >= count)
        return self.to(path)


async def seed_registry(
    engine: AsyncEngine, hooks: WebhookReceiver, now: datetime, homes: int = 1
) -> None:
    """Station s-1 (centre c-1 above it), homes h-0001… each with a resident and two relatives."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        session.add(StationRow(id="c-1", name="区域中心", kind="centre", created_at=now))
        session.add(StationRow(id="s-1", name="和平驿站", centre_id="c-1", created_at=now))
    async with sessions.begin() as session:
        session.add_all(
            [
                StaffRow(
                    id="wang",
                    station_id="s-1",
                    name="王芳",
                    channels=[hooks.url("/station/wang")],
                    created_at=now,
                ),
                StaffRow(
                    id="tech",
                    station_id="s-1",
                    name="赵工",
                    role="technician",
                    channels=[hooks.url("/station/tech")],
                    created_at=now,
                ),
                StaffRow(
                    id="zhou",
                    station_id="c-1",
                    name="周主任",
                    channels=[hooks.url("/centre/zhou")],
                    created_at=now,
                ),
            ]
        )
    for number in range(1, homes + 1):
        await _seed_home(sessions, hooks, f"h-{number:04d}", now)


async def _seed_home(sessions: Any, hooks: WebhookReceiver, home_id: str, now: datetime) -> None:
    async with sessions.begin() as session:
        home = await session.get(HomeRow, home_id)
        if home is None:
            home = HomeRow(id=home_id, created_at=now)
            session.add(home)
        home.name, home.station_id = "张阿姨家", "s-1"
        home.address = "和平路 12 号 3 单元 501"
        home.access_notes = "钥匙盒在门左侧，密码 4711"
        await session.flush()
        session.add(
            ResidentRow(
                home_id=home_id, name="张秀英", birth_year=1938, care_notes="华法林；助行器"
            )
        )
        session.add_all(
            [
                ContactRow(
                    home_id=home_id,
                    name="李明",
                    relation="son",
                    position=1,
                    channels=[hooks.url("/family/liming-push"), hooks.url("/family/liming-sms")],
                ),
                ContactRow(
                    home_id=home_id,
                    name="Li Hua",
                    relation="daughter",
                    position=2,
                    language="en",
                    channels=[hooks.url("/family/lihua")],
                ),
            ]
        )


def make_alert(
    alert_id: str,
    raised_at: datetime,
    *,
    home: str = "h-0001",
    kind: AlertKind = AlertKind.CALL_BUTTON,
    severity: Severity = Severity.CRITICAL,
    device: str = "btn-hall",
) -> Alert:
    return Alert(
        alert_id=alert_id,
        home=home,
        kind=kind,
        severity=severity,
        raised_at=raised_at,
        evidence=[Evidence(device=device, seq=1, type=kind.value)],
        explanation=LocalizedText(zh_cn="门厅呼叫按钮被按下", en="Hall call button pressed"),
    )


def ack_link_app(
    api: AlertingApi, publish: PublishUpdate, engine: AsyncEngine, clock: Clock
) -> FastAPI:
    """The dashboard's signed-link page alone (it needs no login), acting through ``api``."""
    app = FastAPI()
    app.state.context = DashboardContext(
        api=api,
        broadcaster=Broadcaster(),
        publish_update=publish,
        engine=engine,
        clock=clock,
        signing_key=b"k" * 32,
        activity=ActivityBoard(Topics(), ActivityLog(engine, clock)),
    )
    app.include_router(ack.router)
    return app

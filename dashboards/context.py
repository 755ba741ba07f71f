"""Everything a request handler needs, built once by ``create_app`` and shared by reference."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from alerting.api import AlertingApi
from dashboards.activity import ActivityBoard
from dashboards.stream import Broadcaster
from eldercare.clock import Clock
from eldercare.models import AlertUpdate

PublishUpdate = Callable[[AlertUpdate], Awaitable[None]]


@dataclass
class DashboardContext:
    api: AlertingApi
    broadcaster: Broadcaster
    publish_update: PublishUpdate
    engine: AsyncEngine
    clock: Clock
    signing_key: bytes
    activity: ActivityBoard
    #: Send the session cookie only over HTTPS; off for the demo on plain http://127.0.0.1.
    secure_cookies: bool = False
    #: ``/docs`` and ``/openapi.json`` only for those logged in (production).
    docs_need_login: bool = False

    def __post_init__(self) -> None:
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

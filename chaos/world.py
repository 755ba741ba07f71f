"""The world a chaos run starts in: a fresh PostgreSQL database, the registry, policies and
routines that make every alert's recipients the run's receiver, and the services' env.

Recipients are the demo's (``simulator.demo_people``): a station, a centre above it, a
relative per home, and the emergency and operators channels, all on the receiver.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chaos.schedule import Plan
from dashboards.accounts import ensure_demo_admin
from detector.activity.model import ModelSettings
from eldercare.clock import Clock
from gateway.registry import Registry
from simulator.demo_people import registry_document, write_policies
from simulator.homes import CHINA
from simulator.layout import STANDARD_DEVICES

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
#: A wake-by this late never fires: the rule stops looking for a wake-up at 16:00.
NEVER = "15:59"
SECRET = "chaos-run-secret-key-of-at-least-32-chars"


async def create_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def wake_by_for(now_local: datetime) -> str | None:
    """A wake-by whose deadline (plus the rule's tolerance) has just passed, so the quiet
    home's no-wake-up is due at the first check; None when no such time exists today (the
    rule only looks between midnight + tolerance and 16:00)."""
    deadline = now_local - timedelta(hours=ModelSettings().wake_tolerance_h, minutes=5)
    if deadline.date() != now_local.date() or now_local.hour >= 15:
        return None
    return f"{deadline.hour:02d}:{deadline.minute:02d}"


def write_routines(folder: Path, plan: Plan, wake_by: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for home in plan.homes:
        chosen = wake_by if home == plan.wake_home and wake_by else NEVER
        (folder / f"{home}.yaml").write_text(f'wake_by: "{chosen}"\n')


async def seed(
    engine: AsyncEngine, clock: Clock, plan: Plan, receiver_port: int
) -> tuple[str, str]:
    """Homes, stations and people in the database; the wall's login (user, password)."""
    document = registry_document([(home, STANDARD_DEVICES) for home in plan.homes], receiver_port)
    await Registry(engine, clock).apply(document)
    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        return await ensure_demo_admin(session, clock.now())


def service_env(
    *,
    broker_port: int,
    database_url: str,
    influx_url: str,
    folder: Path,
    receiver_port: int,
    http_port: int,
    anchor: datetime,
    speed: float,
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ELDERCARE_")}
    env.update(
        ELDERCARE_BROKER_URL=f"mqtt://127.0.0.1:{broker_port}",
        ELDERCARE_DATABASE_URL=database_url,
        ELDERCARE_INFLUX_URL=influx_url,
        ELDERCARE_POLICIES_DIR=str(write_policies(folder / "policies", receiver_port)),
        ELDERCARE_ROUTINES_DIR=str(folder / "routines"),
        ELDERCARE_CLOCK_SPEED=str(speed),
        ELDERCARE_CLOCK_ANCHOR=anchor.isoformat(),
        ELDERCARE_SECRET_KEY=SECRET,
        ELDERCARE_LOG_LEVEL="INFO",
        ELDERCARE_HTTP_PORT=str(http_port),
        ELDERCARE_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
    )
    return env


def local_now(clock: Clock) -> datetime:
    return clock.now().astimezone(CHINA)

"""Shared fixtures: a private mosquitto per test, and databases on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare.broker import LocalMosquitto
from eldercare.db import create_engine, migrate

#: The PostgreSQL server tests create their throw-away databases on (trust auth).
POSTGRES_ADMIN_URL = os.environ.get(
    "ELDERCARE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def mosquitto() -> Iterator[LocalMosquitto]:
    with LocalMosquitto() as broker:
        yield broker


async def _postgres_database() -> tuple[str, str]:
    name = f"eldercare_t_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a throw-away database on the test PostgreSQL server."""
    name, url = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """The same test on the embedded default and on the production database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'eldercare.db'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """PostgreSQL only: for tests of what happens between us and the server."""
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    await migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()

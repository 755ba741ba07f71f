"""The Alembic history builds exactly the schema the ORM models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, insert, select, table
from sqlalchemy.ext.asyncio import async_sessionmaker

from alerting.api import AlertingApi
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine
from eldercare.db.engine import MIGRATIONS
from eldercare.db.models import AlertEventRow, AlertRow, AlertTriggerRow, Base, HomeRow
from eldercare.topics import home_hash
from tests.alerting_support import make_alert


def test_one_linear_history() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


async def test_migrated_schema_matches_models(engine) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


def _upgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_upgrade_remembers_the_triggers_already_stored(db_url: str) -> None:
    """A trigger attached before the upgrade and redelivered after it is not attached again."""
    engine = create_engine(db_url)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, "dashboard_2")
    at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    async with async_sessionmaker(engine).begin() as session:
        session.add(
            AlertRow(
                id="A1",
                home_id="h-0001",
                kind="call_button",
                severity="critical",
                status="open",
                raised_at=at,
                updated_at=at,
                trigger_count=3,
                explanation={"en": "Call"},
                evidence=[],
            )
        )
        await session.flush()
        for note in (
            None,
            "another trigger attached (A2)",
            "another trigger attached (A3); severity high → critical",
            "another trigger attached (A2)",  # the double attach this migration ends
        ):
            # Only the columns of that revision: a later one may add to the table.
            await session.execute(
                insert(AlertEventRow).values(alert_id="A1", at=at, status="open", note=note)
            )
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, "head")
        rows = (await connection.execute(select(AlertTriggerRow.trigger_id))).scalars()
        assert sorted(rows) == ["A1", "A2", "A3"]
    api = AlertingApi(engine, SimulatedClock(at))
    redelivered = make_alert("A2", at)
    assert await api.record(redelivered) is None
    assert (await api.get("A1")).trigger_count == 3
    await engine.dispose()


async def test_upgrade_gives_every_home_its_shard_hash(db_url: str) -> None:
    """Homes registered before 0012 get ``homes.shard_hash``, so a detector replica finds
    them when it reads its shards' homes; homes registered after get it on insert."""
    engine = create_engine(db_url)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, "wellbeing_summaries")
        at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        names = ("id", "name", "address", "access_notes", "timezone", "created_at")
        homes = table("homes", *(column(name) for name in names))
        values = ("h-0042", "", "", "", "Asia/Shanghai", at)
        await connection.execute(insert(homes).values(dict(zip(names, values, strict=True))))
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, "head")
    async with async_sessionmaker(engine).begin() as session:
        session.add(HomeRow(id="h-0043", created_at=at))
    async with async_sessionmaker(engine)() as session:
        rows = dict((await session.execute(select(HomeRow.id, HomeRow.shard_hash))).all())
    assert rows == {"h-0042": home_hash("h-0042"), "h-0043": home_hash("h-0043")}
    await engine.dispose()

"""Engine creation and schema migration, shared by every service that touches the database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from eldercare.failures import until_the_database_answers

if TYPE_CHECKING:
    from eldercare.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


#: How long a SQLite connection waits for another writer's lock before it gives up.
SQLITE_TIMEOUT_S = 30


def sqlite_pragmas(engine: Engine) -> None:
    """Foreign keys enforced and WAL on every connection ``engine`` opens to SQLite."""

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite files get their folder created and foreign keys enforced."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_TIMEOUT_S})
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sqlite_pragmas(engine.sync_engine)
    return engine


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; every service calls this at start."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def prepared_engine(settings: Settings, *, wait: bool = False) -> AsyncEngine:
    """The database engine with the schema migrated to head.

    ``wait``: a service that starts before its database (a reboot, compose, a failover)
    waits for it, one log line per attempt, as its MQTT connection waits for the broker;
    a one-off command fails at once instead.
    """
    engine = create_engine(settings.db_url)
    if wait:
        await until_the_database_answers(
            lambda: migrate(engine),
            "database_unreachable_waiting",
            database=engine.url.render_as_string(hide_password=True),
        )
    else:
        await migrate(engine)
    return engine


def insert_new(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` on either database: rows whose key exists already
    are left as they are (whoever came first wins, and a second writer is no error)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(rows).on_conflict_do_nothing()

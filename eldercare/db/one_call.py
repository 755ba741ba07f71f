"""A whole transaction as one call to the database, for the writes a press waits on.

Through async SQLAlchemy on aiosqlite every statement is several hand-overs to the
driver's thread (make a cursor, execute, fetch, close; then the commit), and each answer
waits for a turn of the event loop. In a service whose loop is busy with every home's
traffic a stored alert made ~40 of them and waited 7–194 ms (median 74) for its turns
(issue 18). ``OneCall.run`` runs a plain function on a sync ``Session`` instead: on a SQLite
file, in a thread of its own with a sync engine on the same file, so the loop hands the
work over once and is given the answer once; elsewhere (PostgreSQL, whose asyncpg has no
thread to hand over to, and in-memory SQLite, which a second engine would not see) through
``AsyncSession.run_sync``, the same function on the same transaction rules. Either way the
transaction has committed when ``run`` returns, and a failure raises the same SQLAlchemy
errors as the async path (so ``eldercare.failures`` tells an outage from a bug the same).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from eldercare.db.engine import SQLITE_TIMEOUT_S, sqlite_pragmas

T = TypeVar("T")


def _sqlite_file(engine: AsyncEngine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


class OneCall:
    """Runs ``work(session)`` in one transaction, as one call to the database (see module).

    One thread, one connection: the calls run one after another, in the order made."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._async_sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._sync: sessionmaker[Session] | None = None
        self._thread: ThreadPoolExecutor | None = None
        if _sqlite_file(engine):
            sync_engine = create_sync_engine(
                engine.url.set(drivername="sqlite+pysqlite"),
                connect_args={"timeout": SQLITE_TIMEOUT_S},
            )
            sqlite_pragmas(sync_engine)
            self._sync = sessionmaker(sync_engine, expire_on_commit=False)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="one-call")

    @property
    def threaded(self) -> bool:
        """Whether ``run`` hands its work to a thread of its own (a SQLite file)."""
        return self._thread is not None

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work`` in a transaction, committed before this returns (rolled back if it raises)."""
        if self._thread is None or self._sync is None:
            async with self._async_sessions.begin() as session:
                return await session.run_sync(work)
        sessions = self._sync

        def in_transaction() -> T:
            with sessions.begin() as session:
                return work(session)

        return await asyncio.get_running_loop().run_in_executor(self._thread, in_transaction)

"""Failed-login throttling: a few guesses per username and per client address, then 429.

The counts live in the database, not in memory: production runs several dashboard
instances behind one address, and per-instance counters would multiply the guesses an
attacker gets by the number of instances, and forget them at every restart or deploy.

An attempt is counted *before* its password is checked, under a row lock, so a burst of
simultaneous guesses cannot all slip through before the first failure is written; a
success then gives the attempt back (the username's count is cleared, the address's count
lowered by one). A locked key refuses every login, with the right password too, until the
lock ends: otherwise the answer would tell the attacker which guess was right.

A station's staff often share one public address (NAT), so the address limit is higher
than the per-user one. Behind a reverse proxy the address is the one uvicorn takes from
``X-Forwarded-For`` of the proxies in ``ELDERCARE_TRUSTED_PROXIES``; without that, every
client would share the proxy's address. From any other peer the header is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.sql import insert_ignoring_existing
from eldercare.db.models import LoginThrottleRow

#: Failures are counted over this window; a lock lasts ``LOCKOUT`` from the last allowed one.
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    limit: int


def keys_for(username: str, address: str) -> tuple[ThrottleKey, ThrottleKey]:
    """The username's key and the client address's key of one login attempt."""
    return (
        ThrottleKey(f"user:{username}", MAX_FAILURES_PER_USER),
        ThrottleKey(f"ip:{address}", MAX_FAILURES_PER_ADDRESS),
    )


async def admit(
    session: AsyncSession, keys: Sequence[ThrottleKey], now: datetime
) -> timedelta | None:
    """Count an attempt, or answer how long the caller must wait (nothing counted then)."""
    await session.execute(
        delete(LoginThrottleRow).where(
            LoginThrottleRow.window_start <= now - WINDOW,
            or_(LoginThrottleRow.locked_until.is_(None), LoginThrottleRow.locked_until <= now),
        )
    )  # forgotten guesses go while we are here: the table stays small without a job
    await session.execute(
        insert_ignoring_existing(session, LoginThrottleRow),
        [{"key": k.key, "failures": 0, "window_start": now, "locked_until": None} for k in keys],
    )
    rows = {
        row.key: row
        for row in await session.scalars(
            select(LoginThrottleRow)
            .where(LoginThrottleRow.key.in_([k.key for k in keys]))
            .order_by(LoginThrottleRow.key)  # one lock order: no deadlock between two logins
            .with_for_update()
        )
    }
    waits = [
        row.locked_until - now
        for row in rows.values()
        if row.locked_until is not None and row.locked_until > now
    ]
    if waits:
        return max(waits)
    for key in keys:
        row = rows[key.key]
        if row.locked_until is not None or now - row.window_start >= WINDOW:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= key.limit:
            row.locked_until = now + LOCKOUT
    return None


async def succeeded(session: AsyncSession, user: ThrottleKey, address: ThrottleKey) -> None:
    """Give a successful attempt back: the user's slate is clean, the address's one lighter
    (colleagues behind the same address keep their own mistakes)."""
    await session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == user.key))
    row = await session.get(LoginThrottleRow, address.key, with_for_update=True)
    if row is not None:
        row.failures = max(0, row.failures - 1)
        if row.failures < address.limit:
            row.locked_until = None


async def unlock(session: AsyncSession, username: str) -> bool:
    """Lift a username's lock (an operator who has checked it is the real person); the
    addresses' counts stay, so this is no way around the spraying limit."""
    user, _ = keys_for(username, "")
    removed = await session.execute(
        delete(LoginThrottleRow).where(LoginThrottleRow.key == user.key)
    )
    return bool(removed.rowcount)  # type: ignore[attr-defined]

"""The homes' recent activity, kept in the database so the home page's day, "last seen" and
the hour before an alert survive a dashboard restart.

Events arrive from the bus one by one; writing each would cost a transaction per message
at 10 000 homes, so they wait in memory for ``FLUSH_S`` and go in one batch. Reads merge
that small buffer with the stored rows, so a page opened right after an alert already shows
the event that raised it. Every dashboard instance hears every event and writes it; the
primary key makes the second write of the same event a no-op.

Rows carry the room their device was in when it spoke (from the registry), so the day keeps
its shape after a device is moved. They are kept ``RETENTION`` and pruned by the writer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dashboards import activity_store
from dashboards.activity_store import Activity
from eldercare.clock import Clock
from eldercare.logs import get_logger
from eldercare.models import Event
from eldercare.urgent_work import UrgentWork
from gateway import registry_api

log = get_logger("dashboard.activity_log")

#: A week of days back from today, plus the evening before the oldest (its night's sleep).
RETENTION = timedelta(days=8)
FLUSH_S = 2.0
PRUNE_EVERY = timedelta(hours=1)
#: Unwritten rows kept while the database is away (about 10 minutes of 10 000 homes);
#: beyond it the oldest go, with a log line: the day view is a picture, not the record.
MAX_PENDING = 50_000
#: A device clock ahead of ours would put activity in the future and keep "last seen" fresh.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
#: Devices get moved rarely; a room map this old is read again at the next flush.
ROOMS_FRESH = timedelta(minutes=10)


class ActivityLog:
    def __init__(self, engine: AsyncEngine, clock: Clock, urgent: UrgentWork | None = None) -> None:
        self.clock = clock
        #: Flushes wait while it runs (the wall's updates, ``eldercare.urgent_work``).
        self.urgent = urgent or UrgentWork()
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._pending: dict[tuple[str, datetime, str, str], Activity] = {}
        self._rooms: dict[str, tuple[datetime, dict[str, str | None]]] = {}
        self._pruned_at: datetime | None = None
        self._dropped = 0

    def record(self, event: Event) -> None:
        """Queue one sign of life for the next batch (the caller filters heartbeats out)."""
        now = self.clock.now()
        at = min(event.ts, now + MAX_CLOCK_AHEAD)
        if at < now - RETENTION:
            return
        activity = Activity(event.home, at, event.device, event.type)
        if len(self._pending) >= MAX_PENDING and activity.key not in self._pending:
            del self._pending[next(iter(self._pending))]
            self._dropped += 1
        self._pending[activity.key] = activity

    async def flush(self) -> None:
        """Write what is queued; on failure it stays queued for the next try."""
        if self._dropped:
            log.warning("activity_rows_dropped", rows=self._dropped, pending=len(self._pending))
            self._dropped = 0
        batch = list(self._pending.values())
        if not batch:
            return
        async with self.sessions.begin() as session:
            await self._load_rooms(session, {a.home for a in batch})
            await activity_store.insert(session, [self._with_room(a) for a in batch])
        for activity in batch:
            if self._pending.get(activity.key) is activity:
                del self._pending[activity.key]

    async def prune(self) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            rows = await activity_store.prune(session, now - RETENTION)
        self._pruned_at = now
        log.info("activity_pruned", rows=rows, before=str(now - RETENTION))

    async def run(self) -> None:
        """Flush every ``FLUSH_S`` and prune every ``PRUNE_EVERY``, until cancelled. Errors
        are logged and retried: the day view must never take the alert wall down with it."""
        try:
            while True:
                await self.clock.sleep(FLUSH_S)
                await self.urgent.none_running()
                try:
                    await self.flush()
                    due = self._pruned_at is None or self.clock.now() - self._pruned_at >= (
                        PRUNE_EVERY
                    )
                    if due:
                        await self.prune()
                except Exception:
                    log.exception("activity_flush_failed", pending=len(self._pending))
        finally:
            if self._pending:  # a clean stop keeps the last seconds too
                try:
                    await self.flush()
                except Exception:
                    log.exception("activity_final_flush_failed", pending=len(self._pending))

    async def between(
        self, session: AsyncSession, home_id: str, start: datetime, end: datetime, limit: int
    ) -> list[Activity]:
        """The home's activity in [start, end], oldest first, stored and not yet stored."""
        found = {
            a.key: a for a in await activity_store.between(session, home_id, start, end, limit)
        }
        for activity in self._pending.values():
            if activity.home == home_id and start <= activity.at <= end:
                found.setdefault(activity.key, self._with_room(activity))
        return sorted(found.values(), key=lambda a: a.at)[-limit:]

    async def latest(self, session: AsyncSession, home_ids: Sequence[str]) -> dict[str, Activity]:
        """Each home's newest activity, stored or not yet stored."""
        found = await activity_store.latest(session, home_ids)
        wanted = set(home_ids)
        for activity in self._pending.values():
            known = found.get(activity.home)
            if activity.home in wanted and (known is None or activity.at > known.at):
                found[activity.home] = self._with_room(activity)
        return found

    async def _load_rooms(self, session: AsyncSession, home_ids: set[str]) -> None:
        now = self.clock.now()
        stale = sorted(
            home
            for home in home_ids
            if home not in self._rooms or now - self._rooms[home][0] >= ROOMS_FRESH
        )
        if not stale:
            return
        rooms: dict[str, dict[str, str | None]] = {home: {} for home in stale}
        for (home_id, device_id), room in (await registry_api.device_rooms(session, stale)).items():
            rooms[home_id][device_id] = room
        for home_id, devices in rooms.items():
            self._rooms[home_id] = (now, devices)

    def _with_room(self, activity: Activity) -> Activity:
        _, devices = self._rooms.get(activity.home, (None, {}))
        return dataclasses.replace(activity, room=devices.get(activity.device))

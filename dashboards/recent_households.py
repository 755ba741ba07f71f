"""Households as the live wall's updates show them, read at most once a minute per home.

Every alert update pushed to the walls carries the household it is about (name, address,
residents, first contact): three registry queries, through aiosqlite's thread, for each
update. At 10 000 homes of background traffic each round trip waited its turn for the
interpreter behind the activity feed, and the dashboard's hop was the slowest of a call
press's four (issue 18). A household is what the wall displays, not whom it is shown to
(the placement, read fresh for every update, decides that), so a minute-old copy is safe:
an edited address shows on the next update after ``FRESH``, and any page load reads it anew.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.homes import households
from dashboards.schemas import Household
from eldercare.clock import Clock

FRESH = timedelta(seconds=60)


class RecentHouseholds:
    """``households(session, home_ids)``, each home read again once its copy is ``FRESH``
    old. Copies past ``FRESH`` are swept once a ``FRESH``, so it holds only the homes that
    had an alert update in the last two minutes, however many homes come and go."""

    def __init__(self, clock: Clock, fresh: timedelta = FRESH) -> None:
        self.clock = clock
        self.fresh = fresh
        self._known: dict[str, tuple[datetime, Household | None]] = {}
        self._swept = clock.now()

    def __len__(self) -> int:
        return len(self._known)

    async def of(self, session: AsyncSession, home_ids: Iterable[str]) -> dict[str, Household]:
        now = self.clock.now()
        if now - self._swept >= self.fresh:
            self._known = {h: c for h, c in self._known.items() if now - c[0] < self.fresh}
            self._swept = now
        wanted = set(home_ids)
        stale = {
            home
            for home in wanted
            if home not in self._known or now - self._known[home][0] >= self.fresh
        }
        if stale:
            found = await households(session, stale)
            for home in stale:
                self._known[home] = (now, found.get(home))
        return {home: known for home in wanted if (known := self._known[home][1]) is not None}

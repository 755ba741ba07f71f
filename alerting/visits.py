"""Visits and calls by station staff (探访): the only queries on the ``visits`` table.

Alerting writes them (the dashboard records staff actions through ``alerting/api.py``, as it
does acknowledgements) because a visit answers the home's open wellbeing notices, which
alerting owns: the visit and the closing of those notices are one transaction, so the home
cannot drop down the visiting list with its notices still open, or the other way round.
A call nobody answered is kept (it is work done) but is no contact: it closes nothing and
does not count for the month's coverage.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.escalation import DEFAULT_TIMEZONE
from alerting.wellbeing import CLOSED, OPEN
from eldercare.db.models import VisitRow, WellbeingNoticeRow
from gateway import registry_api


class VisitMode(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"


class VisitOutcome(StrEnum):
    WELL = "well"  # seen or heard, nothing to follow up
    CONCERN = "concern"  # reached, but something needs following up
    NOT_REACHED = "not_reached"  # nobody opened, nobody answered

    @property
    def reached(self) -> bool:
        return self is not VisitOutcome.NOT_REACHED


class VisitView(BaseModel):
    visit_id: int
    home: str
    at: datetime
    by: str
    mode: VisitMode
    outcome: VisitOutcome
    note: str
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: VisitRow) -> VisitView:
        return cls(
            visit_id=row.id,
            home=row.home_id,
            at=row.at,
            by=row.by,
            mode=VisitMode(row.mode),
            outcome=VisitOutcome(row.outcome),
            note=row.note,
            recorded_at=row.recorded_at,
        )


class VisitCoverage(BaseModel):
    """One station's month: how many of its homes staff reached, in person or by phone."""

    station: str
    month: str = Field(description="YYYY-MM, in the homes' own time zone")
    homes: int
    reached: int = Field(description="homes with at least one visit or call that reached them")
    coverage: float | None = Field(description="reached / homes, 0..1; none without homes")
    in_person: int = Field(description="visits in person that reached the resident")
    phone: int = Field(description="calls that reached the resident")
    not_reached: int = Field(description="visits and calls that reached nobody")
    unreached_homes: list[str] = Field(description="homes with no contact this month, by id")


async def record(
    session: AsyncSession,
    home: str,
    *,
    at: datetime,
    by: str,
    mode: VisitMode,
    outcome: VisitOutcome,
    note: str,
    now: datetime,
) -> tuple[VisitRow, int]:
    """Keep a visit; one that reached the resident closes the home's open notices (the
    count is returned): someone has looked at what they were about."""
    row = VisitRow(
        home_id=home,
        at=at,
        by=by,
        mode=mode.value,
        outcome=outcome.value,
        note=note,
        recorded_at=now,
    )
    session.add(row)
    closed = 0
    if outcome.reached:
        result = await session.execute(
            update(WellbeingNoticeRow)
            .where(WellbeingNoticeRow.home_id == home, WellbeingNoticeRow.status == OPEN)
            .values(status=CLOSED, closed_at=now, closed_by=by)
        )
        closed = result.rowcount or 0  # type: ignore[attr-defined]
    await session.flush()
    return row, closed


async def last_contacts(session: AsyncSession, homes: Sequence[str]) -> dict[str, VisitRow]:
    """Each home's latest visit or call that reached the resident (homes never reached are
    missing)."""
    latest = (
        select(VisitRow.home_id, func.max(VisitRow.at).label("at"))
        .where(VisitRow.home_id.in_(homes), VisitRow.outcome != VisitOutcome.NOT_REACHED.value)
        .group_by(VisitRow.home_id)
        .subquery()
    )
    rows = await session.scalars(
        select(VisitRow)
        .join(latest, (VisitRow.home_id == latest.c.home_id) & (VisitRow.at == latest.c.at))
        .order_by(VisitRow.id)
    )
    return {row.home_id: row for row in rows}


async def of_home(session: AsyncSession, home: str, limit: int) -> Sequence[VisitRow]:
    """A home's visits and calls, newest first."""
    query = (
        select(VisitRow)
        .where(VisitRow.home_id == home)
        .order_by(VisitRow.at.desc(), VisitRow.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def coverage(
    session: AsyncSession, *, month: str, station: str | None = None
) -> list[VisitCoverage]:
    """Per station (registry placement), for one month of the homes' local calendar."""
    placed = {
        home: (st, tz)
        for home, (st, tz) in (await registry_api.stations_and_timezones(session)).items()
        if st is not None and (station is None or st == station)
    }
    # The month in UTC, a day wider at each end: every home's own month lies inside.
    first = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    after = (first + timedelta(days=32)).replace(day=1)
    visits = (
        await session.scalars(
            select(VisitRow).where(
                VisitRow.home_id.in_(list(placed)),
                VisitRow.at >= first - timedelta(days=1),
                VisitRow.at < after + timedelta(days=1),
            )
        )
    ).all()
    stations: dict[str, VisitCoverage] = {}
    for home, (station_id, _) in sorted(placed.items()):
        entry = stations.setdefault(
            station_id,
            VisitCoverage(
                station=station_id,
                month=month,
                homes=0,
                reached=0,
                coverage=None,
                in_person=0,
                phone=0,
                not_reached=0,
                unreached_homes=[],
            ),
        )
        entry.homes += 1
        entry.unreached_homes.append(home)
    for visit in visits:
        station_id, timezone = placed[visit.home_id]
        local = visit.at.astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE))
        if local.strftime("%Y-%m") != month:
            continue
        entry = stations[station_id]
        outcome = VisitOutcome(visit.outcome)
        if not outcome.reached:
            entry.not_reached += 1
            continue
        if visit.mode == VisitMode.IN_PERSON.value:
            entry.in_person += 1
        else:
            entry.phone += 1
        if visit.home_id in entry.unreached_homes:
            entry.unreached_homes.remove(visit.home_id)
    for entry in stations.values():
        entry.reached = entry.homes - len(entry.unreached_homes)
        entry.coverage = round(entry.reached / entry.homes, 3) if entry.homes else None
    return [stations[key] for key in sorted(stations)]

"""What a principal may see: the one rule every endpoint and the live stream go through.

A home belongs to a station, a station to a regional centre. The rule is a pure function of
the principal and the home's placement, so it is tested without a server, and the SSE
stream applies the very same function to each frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dashboards.principal import Principal, Role
from eldercare.db.models import Home, Station


@dataclass(frozen=True, slots=True)
class Placement:
    home_id: str
    station_id: str | None
    centre_id: str | None


def may_see(principal: Principal, placement: Placement) -> bool:
    """True when the home lies inside the principal's scope; unplaced homes only for admins."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.FAMILY:
        return placement.home_id == principal.home_id
    if principal.station_id is None or placement.station_id is None:
        return False
    if principal.role is Role.STAFF:
        return placement.station_id == principal.station_id
    return principal.station_id in (placement.centre_id, placement.station_id)


def _placements() -> Select[tuple[str, str | None, str | None]]:
    station = aliased(Station)
    return select(Home.id, Home.station_id, station.centre_id).outerjoin(
        station, station.id == Home.station_id
    )


async def placement_of(session: AsyncSession, home_id: str) -> Placement | None:
    row = (await session.execute(_placements().where(Home.id == home_id))).first()
    return Placement(*row) if row else None


async def visible_home_ids(session: AsyncSession, principal: Principal) -> list[str]:
    """The ids of every home the principal may see, sorted (the list pages are built on)."""
    if principal.role in (Role.STAFF, Role.SUPERVISOR) and principal.station_id is None:
        return []
    station = aliased(Station)
    query = select(Home.id).outerjoin(station, station.id == Home.station_id).order_by(Home.id)
    if principal.role is Role.FAMILY:
        query = query.where(Home.id == principal.home_id)
    elif principal.role is Role.STAFF:
        query = query.where(Home.station_id == principal.station_id)
    elif principal.role is Role.SUPERVISOR:
        query = query.where(
            (station.centre_id == principal.station_id) | (Home.station_id == principal.station_id)
        )
    return list((await session.scalars(query)).all())

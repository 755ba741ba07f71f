"""What a principal may see: the one rule every endpoint and the live stream go through.

A home belongs to a station, a station to a regional centre. The rule is a pure function of
the principal and the home's placement, so it is tested without a server, and the SSE
stream applies the very same function to each frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dashboards.principal import Principal, Role
from gateway import registry_api


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


async def placement_of(session: AsyncSession, home_id: str) -> Placement | None:
    row = await registry_api.placement(session, home_id)
    return Placement(*row) if row else None


async def visible_home_ids(session: AsyncSession, principal: Principal) -> list[str]:
    """The ids of every home the principal may see, sorted (the list pages are built on)."""
    if principal.role in (Role.STAFF, Role.SUPERVISOR) and principal.station_id is None:
        return []
    if principal.role is Role.FAMILY:
        return await registry_api.home_ids(session, home_id=principal.home_id)
    if principal.role is Role.STAFF:
        return await registry_api.home_ids(session, station_id=principal.station_id)
    if principal.role is Role.SUPERVISOR:
        return await registry_api.home_ids(session, under=principal.station_id)
    return await registry_api.home_ids(session)

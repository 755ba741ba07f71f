"""Who a policy target means for one home, read from the registry (written by the gateway)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from alerting.policies import Target
from gateway import registry_api

STAFF_ROLE = {Target.STATION: "duty", Target.TECHNICIAN: "technician", Target.CENTRE: "duty"}


@dataclass(frozen=True, slots=True)
class Recipient:
    key: str  # staff:<id> | contact:<id> | emergency | operators: stable for idempotency
    name: str
    language: str
    channels: tuple[str, ...]  # apprise URLs, tried in this order


async def _staff(session: AsyncSession, station_id: str | None, role: str) -> list[Recipient]:
    if station_id is None:
        return []
    rows = await registry_api.active_staff(session, station_id, role)
    return [Recipient(f"staff:{s.id}", s.name, "zh-CN", tuple(s.channels)) for s in rows]


async def resolve(
    session: AsyncSession,
    target: Target,
    home: registry_api.HomeRow | None,
    policy_channels: Mapping[str, list[str]],
) -> list[Recipient]:
    """Everyone the target names, with their channels; empty when the registry has nobody."""
    if target in (Target.EMERGENCY, Target.OPERATORS):
        urls = tuple(policy_channels.get(target.value, ()))
        return [Recipient(target.value, target.value, "zh-CN", urls)] if urls else []
    if home is None:
        return []
    if target is Target.FAMILY:
        contacts = await registry_api.contacts(session, home.id)
        return [
            Recipient(f"contact:{c.id}", c.name, c.language, tuple(c.channels)) for c in contacts
        ]
    station_id = home.station_id
    if target is Target.CENTRE:
        station = await registry_api.station(session, station_id) if station_id else None
        station_id = station.centre_id if station else None
    return await _staff(session, station_id, STAFF_ROLE[target])

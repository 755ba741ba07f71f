"""Homes as the dashboard shows them: registry rows (read-only here), liveness heard on the
bus, and the home mode, of which the dashboard is the only writer.

``home_modes`` holds "away / in hospital until …". The inactivity detector reads it (a row
whose ``until`` has passed, or mode ``home``, means the resident is expected at home) so an
empty flat does not wake the station at night.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.api import AlertView
from dashboards.activity import ActivityBoard
from dashboards.activity_store import Activity
from dashboards.i18n import LANGS, catalogue, name_of
from dashboards.schemas import (
    Connectivity,
    ContactView,
    DeviceView,
    HomeModeName,
    HomeModeRequest,
    HomeModeView,
    HomeSummary,
    Household,
    ResidentView,
)
from dashboards.scope import Placement
from eldercare.db.models import HomeModeRow
from eldercare.models import AlertKind
from gateway import registry_api
from gateway.registry_api import ContactRow, DeviceRow, HomeRow, ResidentRow

#: Coin cells last one to two years; past this the overview asks for a battery round.
BATTERY_AGE_WARNING = timedelta(days=365)


def mode_view(row: HomeModeRow | None, now: datetime) -> HomeModeView | None:
    """The mode in force: none when the resident is home or the away period has ended."""
    if row is None or not row.in_force(now):
        return None
    return HomeModeView(
        mode=HomeModeName(row.mode),
        until=row.until,
        note=row.note,
        set_by=row.set_by,
        set_at=row.set_at,
    )


async def set_mode(
    session: AsyncSession, home_id: str, request: HomeModeRequest, actor: str, now: datetime
) -> HomeModeView | None:
    row = await session.get(HomeModeRow, home_id)
    if row is None:
        row = HomeModeRow(home_id=home_id)
        session.add(row)
    row.mode, row.until, row.note = request.mode.value, request.until, request.note
    row.set_by, row.set_at = actor, now
    return mode_view(row, now)


def device_views(
    devices: Sequence[DeviceRow],
    activity: ActivityBoard,
    alerts: Sequence[AlertView],
    now: datetime,
) -> list[DeviceView]:
    low_battery = {
        item.get("device")
        for alert in alerts
        if alert.kind is AlertKind.BATTERY_LOW and alert.resolved_at is None
        for item in alert.evidence
    }
    views = []
    for device in devices:
        liveness = activity.device(device.home_id, device.id)
        old_battery = bool(
            device.battery_changed_at and now - device.battery_changed_at > BATTERY_AGE_WARNING
        )
        views.append(
            DeviceView(
                device_id=device.id,
                kind=device.kind,
                room=device.room,
                state=liveness.state.value if liveness.state else "unknown",
                last_seen=liveness.last_seen,
                battery_warning=old_battery or device.id in low_battery,
            )
        )
    return views


def connectivity(devices: Sequence[DeviceView]) -> Connectivity:
    states = {device.state for device in devices}
    if not states or states == {"unknown"}:
        return "unknown"
    if states <= {"online", "unknown"}:
        return "online"
    return "offline" if states == {"offline"} else "partial"


def summary(
    home: HomeRow,
    mode: HomeModeRow | None,
    devices: list[DeviceView],
    alerts: Sequence[AlertView],
    last: Activity | None,
    now: datetime,
) -> HomeSummary:
    return HomeSummary(
        home_id=home.id,
        name=home.name or home.id,
        station_id=home.station_id,
        mode=mode_view(mode, now),
        connectivity=connectivity(devices),
        devices_offline=[device.device_id for device in devices if device.state == "offline"],
        battery_warnings=[device.device_id for device in devices if device.battery_warning],
        last_activity=last.at if last else None,
        last_activity_device=last.device if last else None,
        open_alerts=sum(alert.resolved_at is None for alert in alerts),
    )


async def summaries(
    session: AsyncSession,
    home_ids: Sequence[str],
    alerts: Sequence[AlertView],
    activity: ActivityBoard,
    now: datetime,
) -> list[HomeSummary]:
    homes = await registry_api.homes(session, home_ids)
    modes = {
        row.home_id: row
        for row in await session.scalars(
            select(HomeModeRow).where(HomeModeRow.home_id.in_(home_ids))
        )
    }
    devices: dict[str, list[DeviceRow]] = {}
    for device in await registry_api.devices_of(session, home_ids):
        devices.setdefault(device.home_id, []).append(device)
    position = {home_id: index for index, home_id in enumerate(home_ids)}
    latest = await activity.log.latest(session, home_ids)
    result = []
    for home in sorted(homes, key=lambda row: position[row.id]):
        own_alerts = [alert for alert in alerts if alert.home == home.id]
        views = device_views(devices.get(home.id, []), activity, own_alerts, now)
        result.append(
            summary(home, modes.get(home.id), views, own_alerts, latest.get(home.id), now)
        )
    return result


def resident_view(row: ResidentRow) -> ResidentView:
    return ResidentView(
        name=row.name, birth_year=row.birth_year, care_notes=row.care_notes, phone=row.phone
    )


def contact_view(row: ContactRow) -> ContactView:
    return ContactView(
        name=row.name,
        relation=row.relation,
        relation_text={lang: name_of(catalogue(lang), "relation", row.relation) for lang in LANGS},
        phone=row.phone,
        position=row.position,
    )


async def residents(session: AsyncSession, home_id: str) -> list[ResidentView]:
    return [resident_view(row) for row in await registry_api.residents(session, home_id)]


async def contacts(session: AsyncSession, home_id: str) -> list[ContactView]:
    return [contact_view(row) for row in await registry_api.contacts(session, home_id)]


async def placed_households(
    session: AsyncSession, home_ids: Iterable[str]
) -> dict[str, tuple[Placement, Household]]:
    """Each known home's placement (who may see it) and its people and address, in one
    query whatever the number of homes (``registry_api.placed_households``)."""
    ids = set(home_ids)
    if not ids:
        return {}
    placed: dict[str, tuple[Placement, Household]] = {}
    for home, centre_id, resident, first_contact in await registry_api.placed_households(
        session, ids
    ):
        if home.id not in placed:
            household = Household(
                name=home.name or home.id,
                address=home.address,
                residents=[],
                contact=contact_view(first_contact) if first_contact else None,
            )
            placed[home.id] = (Placement(home.id, home.station_id, centre_id), household)
        if resident is not None:
            placed[home.id][1].residents.append(resident_view(resident))
    return placed


async def households(session: AsyncSession, home_ids: Iterable[str]) -> dict[str, Household]:
    """Each known home's people and address (the wall asks for every open alert at once)."""
    placed = await placed_households(session, home_ids)
    return {home: household for home, (_, household) in placed.items()}


async def home_devices(session: AsyncSession, home_id: str) -> list[DeviceRow]:
    return await registry_api.devices_of(session, [home_id])

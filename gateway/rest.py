"""REST over the registry: ``/api/registry/...``, for the dashboard's admin pages and tools.

No authentication here: the dashboard mounts this router behind its own login and roles
(``include(app, engine, clock, dependencies=[...])``). Request bodies are the import specs,
so a home PUT here and a home in an import file are the same thing; responses are their own
schemas, never ORM rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare.clock import Clock
from eldercare.http_errors import ErrorBody
from eldercare.models import Ident
from gateway.channel_secrets import UnknownChannelLabel, has_labels, masked, with_stored_urls
from gateway.registry import HomeNotFound, ImportSummary, Registry, RegistryConflict
from gateway.specs import DeviceSpec, HomeSpec, RegistryDocument


def _registry(request: Request) -> Registry:
    return request.app.state.registry  # type: ignore[no-any-return]


RegistryDep = Annotated[Registry, Depends(_registry)]


class HomeSummary(BaseModel):
    id: str
    name: str
    station: str | None
    timezone: str
    devices: int
    created_at: datetime


class StationView(BaseModel):
    id: str
    name: str
    kind: str
    centre: str | None


class ImportResult(BaseModel):
    stations: int
    homes: int
    devices: int

    @classmethod
    def of(cls, summary: ImportSummary) -> ImportResult:
        return cls(stations=summary.stations, homes=summary.homes, devices=summary.devices)


class BatteryChange(BaseModel):
    at: AwareDatetime | None = Field(default=None, description="default: now")


_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "no such home or device"}
}
_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "breaks a registry rule (station, zigbee name…)"}
}

router = APIRouter(prefix="/api/registry", tags=["registry"])


def _not_found(error: HomeNotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


def _conflict(error: RegistryConflict) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


@router.get("/homes", response_model=list[HomeSummary])
async def list_homes(registry: RegistryDep, station: str | None = None) -> list[HomeSummary]:
    return [
        HomeSummary(
            id=home.id,
            name=home.name,
            station=home.station_id,
            timezone=home.timezone,
            devices=devices,
            created_at=home.created_at,
        )
        for home, devices in await registry.list_homes(station)
    ]


@router.post(
    "/homes",
    response_model=HomeSpec,
    status_code=status.HTTP_201_CREATED,
    responses={**_CONFLICT},
)
async def create_home(registry: RegistryDep, spec: HomeSpec) -> HomeSpec:
    """Create a home; 409 if the id is taken (PUT to update)."""
    try:
        await registry.get_home(spec.id)
    except HomeNotFound:
        try:
            await registry.upsert_home(await _with_stored_urls(registry, spec))
        except RegistryConflict as error:
            raise _conflict(error) from None
        return masked(await registry.get_home(spec.id))
    raise HTTPException(status.HTTP_409_CONFLICT, f"home {spec.id} already exists")


@router.get("/homes/{home_id}", response_model=HomeSpec, responses={**_NOT_FOUND})
async def get_home(registry: RegistryDep, home_id: Ident) -> HomeSpec:
    """The home, its contacts' channels as labels (``json …0.1``): URLs are write-only."""
    try:
        return masked(await registry.get_home(home_id))
    except HomeNotFound as error:
        raise _not_found(error) from None


async def _with_stored_urls(registry: Registry, spec: HomeSpec) -> HomeSpec:
    """Labels sent back (from a GET) stand for the URLs stored under them; a label with no
    stored URL behind it conflicts with the stored home (409). The stored home is read only
    when a label came back: a plain create or a bulk import costs no extra reads."""
    if not has_labels(spec):
        return spec
    try:
        stored: HomeSpec | None = await registry.get_home(spec.id)
    except HomeNotFound:
        stored = None
    try:
        return with_stored_urls(spec, stored)
    except UnknownChannelLabel as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None


@router.put("/homes/{home_id}", response_model=HomeSpec, responses={**_CONFLICT})
async def put_home(registry: RegistryDep, home_id: Ident, spec: HomeSpec) -> HomeSpec:
    """Create or update (idempotent); listed devices are upserted, residents/contacts replaced.

    A body whose id differs from the path conflicts with the resource named (409).
    """
    if spec.id != home_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"body id {spec.id} does not match path {home_id}"
        )
    try:
        await registry.upsert_home(await _with_stored_urls(registry, spec))
    except RegistryConflict as error:
        raise _conflict(error) from None
    return masked(await registry.get_home(home_id))


@router.delete("/homes/{home_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**_NOT_FOUND})
async def delete_home(registry: RegistryDep, home_id: Ident) -> Response:
    try:
        await registry.delete_home(home_id)
    except HomeNotFound as error:
        raise _not_found(error) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/homes/{home_id}/devices/{device_id}",
    response_model=DeviceSpec,
    responses={**_NOT_FOUND, **_CONFLICT},
)
async def put_device(
    registry: RegistryDep, home_id: Ident, device_id: Ident, spec: DeviceSpec
) -> DeviceSpec:
    if spec.id != device_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"body id {spec.id} does not match path {device_id}"
        )
    try:
        await registry.upsert_device(home_id, spec)
    except HomeNotFound as error:
        raise _not_found(error) from None
    except RegistryConflict as error:
        raise _conflict(error) from None
    home = await registry.get_home(home_id)
    return next(device for device in home.devices if device.id == device_id)


@router.delete(
    "/homes/{home_id}/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND},
)
async def delete_device(registry: RegistryDep, home_id: Ident, device_id: Ident) -> Response:
    try:
        await registry.delete_device(home_id, device_id)
    except HomeNotFound as error:
        raise _not_found(error) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/homes/{home_id}/devices/{device_id}/battery-changed",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND},
)
async def battery_changed(
    registry: RegistryDep, home_id: Ident, device_id: Ident, body: BatteryChange
) -> Response:
    """A technician replaced the battery: its age, and "due for replacement", start over."""
    try:
        await registry.battery_changed(home_id, device_id, body.at or registry.clock.now())
    except HomeNotFound as error:
        raise _not_found(error) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/import", response_model=ImportResult, responses={**_CONFLICT})
async def import_document(registry: RegistryDep, document: RegistryDocument) -> ImportResult:
    """The import file format as JSON; all or nothing, and re-importing changes nothing."""
    homes = [await _with_stored_urls(registry, home) for home in document.homes]
    try:
        return ImportResult.of(await registry.apply(document.model_copy(update={"homes": homes})))
    except RegistryConflict as error:
        raise _conflict(error) from None


@router.get("/stations", response_model=list[StationView])
async def list_stations(registry: RegistryDep) -> list[StationView]:
    return [
        StationView(id=s.id, name=s.name, kind=s.kind, centre=s.centre_id)
        for s in await registry.list_stations()
    ]


def include(app: FastAPI, engine: AsyncEngine, clock: Clock, **options: Any) -> None:
    """Serve the registry REST on another service's app (the dashboard's, behind its login),
    so that app needs nothing of the gateway but this module."""
    app.state.registry = Registry(engine, clock)
    app.include_router(router, **options)

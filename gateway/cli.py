"""``eldercare homes …``: manage the registry and the broker accounts derived from it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.settings import Settings
from gateway.mqtt_auth import BrokerAccounts, broker_accounts, write_auth_files
from gateway.registry import HomeNotFound, Registry, RegistryConflict
from gateway.specs import DeviceSpec, HomeSpec, SpecError, load_document

app = typer.Typer(
    help="The device registry: homes, devices, residents, contacts.", no_args_is_help=True
)

T = TypeVar("T")


def _with_registry(work: Callable[[Registry], Awaitable[T]]) -> T:
    """Run ``work`` on a migrated database; registry errors become one clear line, exit 1."""
    try:
        settings = Settings()
    except ValueError as error:
        typer.secho(f"configuration error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None

    async def go() -> T:
        engine = await prepared_engine(settings)
        try:
            return await work(Registry(engine, RealClock()))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except (HomeNotFound, RegistryConflict, SpecError, ValidationError) as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(1) from None


@app.command("add")
def add_home(
    home_id: Annotated[str, typer.Argument(help="home id, e.g. h-0001")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    station: Annotated[str | None, typer.Option(help="responsible station id")] = None,
    address: Annotated[str, typer.Option()] = "",
    timezone: Annotated[str | None, typer.Option(help="IANA zone, default Asia/Shanghai")] = None,
) -> None:
    """Create or update a home (its devices, residents and contacts are kept)."""

    async def work(registry: Registry) -> bool:
        try:
            current = await registry.get_home(home_id)
        except HomeNotFound:
            current = HomeSpec(id=home_id)
        spec = current.model_copy(
            update={
                "name": name or current.name,
                "station": station or current.station,
                "address": address or current.address,
                "timezone": timezone or current.timezone,
                "residents": None,
                "contacts": None,
            }
        )
        return await registry.upsert_home(HomeSpec.model_validate(spec.model_dump()))

    created = _with_registry(work)
    typer.echo(f"{'added' if created else 'updated'} home {home_id}")


@app.command("add-device")
def add_device(
    home_id: Annotated[str, typer.Argument()],
    device_id: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option(help="motion, door, call_button, smoke, …")],
    room: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option(help="vendor model, e.g. RTCGQ11LM")] = None,
    heartbeat_s: Annotated[
        int | None, typer.Option(help="expected seconds between messages")
    ] = None,
    zigbee_name: Annotated[str | None, typer.Option(help="zigbee2mqtt friendly name")] = None,
) -> None:
    """Create or update one device of a registered home."""
    spec = _device(device_id, kind, room, model, heartbeat_s, zigbee_name)
    created = _with_registry(lambda registry: registry.upsert_device(home_id, spec))
    typer.echo(f"{'added' if created else 'updated'} device {home_id}/{device_id}")


def _device(
    device_id: str,
    kind: str,
    room: str | None,
    model: str | None,
    heartbeat_s: int | None,
    zigbee_name: str | None,
) -> DeviceSpec:
    try:
        return DeviceSpec(
            device_id,
            kind,
            room,
            model=model,
            heartbeat_s=heartbeat_s,
            zigbee_name=zigbee_name,
        )
    except ValidationError as error:
        raise typer.BadParameter(str(error)) from None


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".yaml/.json/.csv")],
) -> None:
    """Import stations and homes; re-importing the same file changes nothing."""
    try:
        document = load_document(path)
    except SpecError as error:
        typer.secho(f"error: {path}: {error}", fg="red", err=True)
        raise typer.Exit(1) from None
    summary = _with_registry(lambda registry: registry.apply(document))
    typer.echo(
        f"imported {summary.stations} stations, {summary.homes} homes, {summary.devices} devices"
    )


@app.command("list")
def list_homes(
    station: Annotated[str | None, typer.Option(help="only this station's homes")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False,
) -> None:
    """Registered homes with their device counts."""
    rows = _with_registry(lambda registry: registry.list_homes(station))
    if as_json:
        listing = [
            {"id": h.id, "name": h.name, "station": h.station_id, "devices": n} for h, n in rows
        ]
        typer.echo(json.dumps(listing, ensure_ascii=False))
        return
    for home, devices in rows:
        typer.echo(f"{home.id}\t{home.station_id or '-'}\t{devices} devices\t{home.name}")


@app.command("show")
def show_home(home_id: Annotated[str, typer.Argument()]) -> None:
    """One home as JSON, in the import format (so it can be edited and re-imported)."""
    spec = _with_registry(lambda registry: registry.get_home(home_id))
    typer.echo(spec.model_dump_json(indent=2, exclude_none=True))


@app.command("remove")
def remove_home(home_id: Annotated[str, typer.Argument()]) -> None:
    """Delete a home with its devices, residents, contacts and broker account."""
    _with_registry(lambda registry: registry.delete_home(home_id))
    typer.echo(f"removed home {home_id}")


@app.command("battery-changed")
def battery_changed(
    home_id: Annotated[str, typer.Argument()],
    device_id: Annotated[str, typer.Argument()],
    at: Annotated[datetime | None, typer.Option(help="when, UTC (default: now)")] = None,
) -> None:
    """Record a battery replacement: the device's battery age starts again."""
    when = RealClock().now() if at is None else at if at.tzinfo else at.replace(tzinfo=UTC)
    _with_registry(lambda registry: registry.battery_changed(home_id, device_id, when))
    typer.echo(f"battery of {home_id}/{device_id} changed at {when.isoformat()}")


@app.command("mqtt-auth")
def mqtt_auth(
    out: Annotated[Path, typer.Option(help="folder for passwd, acl, new-credentials.txt")],
    rotate: Annotated[
        list[str] | None, typer.Option(help="username to give a new password")
    ] = None,
    dashboard_port: Annotated[
        list[int] | None,
        typer.Option(help="HTTP port of each dashboard (its MQTT client id carries it)"),
    ] = None,
) -> None:
    """Write mosquitto password and ACL files: each home may publish only its own topics,
    each service only its own."""
    settings = Settings()

    async def work(registry: Registry) -> BrokerAccounts:
        return await broker_accounts(
            registry,
            settings.topics,
            zigbee_base=settings.zigbee_base_topic,
            rotate=rotate or (),
            dashboard_ports=dashboard_port or (settings.http_port,),
        )

    accounts = _with_registry(work)
    files = write_auth_files(accounts, out)
    typer.echo(f"wrote {files.password_file} and {files.acl_file} ({len(accounts.hashes)} users)")
    if files.credentials_file:
        typer.echo(
            f"{len(accounts.new_passwords)} new passwords in {files.credentials_file}: "
            "hand them to the installers, then delete the file"
        )

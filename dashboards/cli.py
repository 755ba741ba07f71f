"""``eldercare users …``: create dashboard users, lift login locks, print family links.

There are no default passwords: ``add`` asks for one (twice, hidden) or reads it from
standard input for scripts, and refuses short ones.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import async_sessionmaker

from dashboards.accounts import AccountError, add_user
from dashboards.family_links import family_link, family_token
from dashboards.login_throttle import unlock
from dashboards.principal import Role
from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.settings import Settings

users_app = typer.Typer(help="Dashboard users and family links.", no_args_is_help=True)


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[Role, typer.Option(help="staff, supervisor, family or admin")],
    station: Annotated[
        str | None, typer.Option(help="station id (staff) or centre id (supervisor)")
    ] = None,
    home: Annotated[str | None, typer.Option(help="the relative's home id (family)")] = None,
    name: Annotated[str | None, typer.Option(help="display name shown as 'who'")] = None,
    language: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add a user who can log in to the dashboard."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = Settings()

    async def go() -> None:
        engine = await prepared_engine(settings)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
                user = await add_user(
                    session,
                    username=username,
                    password=password,
                    role=role,
                    now=RealClock().now(),
                    display_name=name,
                    station_id=station,
                    home_id=home,
                    language=language,
                )
                typer.echo(f"added {role.value} {user.username!r} (id {user.id})")
        finally:
            await engine.dispose()

    try:
        asyncio.run(go())
    except AccountError as error:
        typer.secho(f"not added: {error}", fg="red", err=True)
        raise typer.Exit(1) from None


@users_app.command("unlock")
def unlock_command(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Lift the lock that failed logins put on a username before it ends by itself."""

    async def go() -> bool:
        engine = await prepared_engine(Settings())
        try:
            async with async_sessionmaker(engine).begin() as session:
                return await unlock(session, username)
        finally:
            await engine.dispose()

    if asyncio.run(go()):
        typer.echo(f"unlocked {username!r}")
    else:
        typer.echo(f"{username!r} was not locked")


@users_app.command("family-link")
def family_link_command(
    home: Annotated[str, typer.Argument(help="home id")],
    name: Annotated[str, typer.Option(help="the family member's name, shown as 'who'")],
    base_url: Annotated[str, typer.Option(help="the dashboard's public address")] = (
        "http://127.0.0.1:8080"
    ),
    language: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
) -> None:
    """Print a signed link to the family view of HOME (valid 7 days)."""
    settings = Settings()
    if not settings.secret_key:
        # Without the dashboard's key the link is signed with a throw-away one and refused.
        typer.secho(
            "ELDERCARE_SECRET_KEY is not set: set it to the dashboard's key "
            "(the demo prints its own family link)",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    token = family_token(settings.signing_key(), home, name, RealClock().now(), language)
    typer.echo(family_link(base_url, token))

"""``eldercare demo``: the whole system on one machine with nothing configured.

Broker choice: ``--broker`` if given; else a private mosquitto on a free port when the
binary exists (the same broker as production, so the demo shows real behaviour). There is
no pure-Python fallback broker: see the README for why amqtt was not adopted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import webbrowser
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare.app.runtime import Service, run_services
from eldercare.broker import BrokerUnavailable, LocalMosquitto, free_port
from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.logs import configure_logging
from eldercare.settings import Environment, Settings


def _port_or_free(port: int) -> int:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


async def demo_login(engine: AsyncEngine, now: datetime) -> tuple[str, str]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from dashboards.accounts import ensure_demo_admin

    async with async_sessionmaker(engine, expire_on_commit=False).begin() as session:
        return await ensure_demo_admin(session, now)


def has_screen() -> bool:
    """On a Linux server or over SSH there is no screen, and Python's fallback would start a
    console browser (lynx, w3m) in the terminal the demo logs to."""
    return sys.platform != "linux" or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


async def open_when_serving(
    host: str,
    port: int,
    url: str,
    *,
    opener: Callable[[str], object] = webbrowser.open,
    wait_s: float = 30.0,
) -> bool:
    """Open the dashboard once it answers, not before: a browser pointed at a port that is
    not listening yet shows an error page and the operator thinks the demo is broken."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait_s
    while loop.time() < give_up:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        await asyncio.to_thread(opener, url)  # a browser may take a moment to start
        return True
    typer.secho(f"the dashboard did not answer within {wait_s:g} s; open {url} yourself", err=True)
    return False


async def run_demo(
    *,
    homes: int,
    broker: str | None,
    port: int,
    press_every: float,
    data_dir: Path,
    open_browser: bool = True,
    metrics_port: int | None = None,
) -> None:
    from dashboards.family_links import family_link, family_token
    from gateway.registry import Registry
    from simulator.demo_people import (
        FIRST_RELATIVE,
        registry_document,
        serve_inbox,
        write_policies,
    )
    from simulator.homes import make_homes
    from simulator.runner import Simulator

    with contextlib.ExitStack() as stack:
        if broker is None:
            try:
                broker = stack.enter_context(LocalMosquitto()).url
            except BrokerUnavailable as error:
                typer.secho(str(error), fg="red", err=True)
                raise typer.Exit(1) from None
        inbox_port, http_port = free_port(), _port_or_free(port)
        settings = Settings(
            environment=Environment.DEMO,
            broker_url=broker,
            data_dir=data_dir,
            http_port=http_port,
            public_url=f"http://127.0.0.1:{http_port}",  # ack links in messages lead here
            log_json=False,
            policies_dir=write_policies(data_dir / "demo-policies", inbox_port),
            # Unset here, ELDERCARE_METRICS_PORT still applies.
            **({"metrics_port": metrics_port} if metrics_port else {}),
        )
        configure_logging(settings.log_level, settings.log_json)
        clock = RealClock()
        engine = await prepared_engine(settings)
        simulated = make_homes(homes)
        await Registry(engine, clock).apply(
            registry_document([(h.home_id, h.devices) for h in simulated], inbox_port)
        )
        simulator = Simulator(settings, clock, simulated, seed=1)
        url = f"http://{settings.http_host}:{settings.http_port}/"
        metrics = (
            f"metrics of every service: http://{settings.metrics_host}:{settings.metrics_port}"
            "/metrics\n"
            if settings.metrics_port
            else ""
        )
        username, password = await demo_login(engine, clock.now())
        family = family_link(
            url,
            family_token(settings.signing_key(), simulated[0].home_id, FIRST_RELATIVE, clock.now()),
        )
        typer.secho(
            f"\neldercare demo: {homes} homes, broker {broker}, database {settings.db_url}\n"
            f"dashboard: {url}  (log in as {username!r}, password {password!r})\n"
            f"family view of {simulated[0].home_id}, as {FIRST_RELATIVE}: {family}\n"
            f"{metrics}"
            f"a random home presses its call button about every {press_every:g} s; the station,\n"
            "family and centre's messages appear as demo_notification lines; Ctrl+C stops.\n",
            fg="green",
        )
        extra = [simulator.run(press_every=press_every), serve_inbox(inbox_port)]
        if open_browser and has_screen():
            extra.append(open_when_serving(settings.http_host, settings.http_port, url))
        try:
            await run_services(settings, clock, list(Service), *extra, engine=engine)
        finally:
            await engine.dispose()

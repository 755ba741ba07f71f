"""``eldercare demo``: the whole system on one machine with nothing configured.

Broker choice: ``--broker`` if given; else a private mosquitto on a free port when the
binary exists (the same broker as production, so the demo shows real behaviour). There is
no pure-Python fallback broker: see the README for why amqtt was not adopted.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare.broker import BrokerUnavailable, LocalMosquitto, free_port
from eldercare.clock import RealClock
from eldercare.logs import configure_logging
from eldercare.runtime import Service, prepared_engine, run_services
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


async def run_demo(
    *, homes: int, broker: str | None, port: int, press_every: float, data_dir: Path
) -> None:
    from eldercare.demo_people import registry_document, serve_inbox, write_policies
    from gateway.registry import Registry
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
        username, password = await demo_login(engine, clock.now())
        typer.secho(
            f"\neldercare demo: {homes} homes, broker {broker}, database {settings.db_url}\n"
            f"dashboard: {url}  (log in as {username!r}, password {password!r})\n"
            f"a random home presses its call button about every {press_every:g} s; the station,\n"
            "family and centre's messages appear as demo_notification lines; Ctrl+C stops.\n",
            fg="green",
        )
        try:
            await run_services(
                settings,
                clock,
                list(Service),
                simulator.run(press_every=press_every),
                serve_inbox(inbox_port),
                engine=engine,
            )
        finally:
            await engine.dispose()

"""The ``eldercare`` command: start the demo, one service, or the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from alerting.cli import dead_letters_command, report_app
from dashboards.cli import users_app
from eldercare import __version__
from eldercare.app.runtime import Service, run_services
from eldercare.command_settings import command_settings
from eldercare.db import prepared_engine
from eldercare.heap import keep_heap_frozen
from eldercare.logs import configure_logging
from eldercare.settings import Settings
from eldercare.shutdown import run_until_stopped
from evaluation.activity import cli as adl_cli
from evaluation.falls import cli as falls_cli
from gateway.cli import app as homes_app
from simulator.cli import eval_scenarios, simulate

app = typer.Typer(
    help="eldercare: keeps old people who live alone safe at home.", no_args_is_help=True
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"eldercare {__version__}")
        raise typer.Exit()


#: ``eldercare train …`` and ``eldercare eval …``: each lane mounts its commands here.
train_app = typer.Typer(help="Train detector models.", no_args_is_help=True)
eval_app = typer.Typer(
    help="Evaluate detectors on recorded or simulated data.", no_args_is_help=True
)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(users_app, name="users")
app.add_typer(homes_app, name="homes")
train_app.command("falls")(falls_cli.train_command)
eval_app.command("falls")(falls_cli.eval_command)
eval_app.command("adl")(adl_cli.adl)
app.add_typer(report_app, name="report")
app.command("deadletters")(dead_letters_command)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Event-driven monitoring: gateway, detector, alerting, dashboard and a simulator."""


@app.command("run")
def run_service(
    service: Annotated[
        str, typer.Argument(help="gateway, detector, alerting, dashboard or simulator")
    ],
    broker: Annotated[
        str | None, typer.Option(help="mqtt://host:port (ELDERCARE_BROKER_URL)")
    ] = None,
) -> None:
    """Run one service against an external broker, configured by ELDERCARE_* variables."""
    if service == "simulator":
        simulate(homes=5, broker=broker)
        return
    try:
        chosen = Service(service)
    except ValueError:
        raise typer.BadParameter(f"unknown service {service!r}") from None
    run_until_stopped(_one_service(command_settings(broker_url=broker), chosen))


async def _one_service(settings: Settings, chosen: Service) -> None:
    """One service per process, as deployed: its heap is frozen as it settles
    (eldercare/heap.py). The freezer is made here, in the running loop, so a run that never
    starts leaves no coroutine behind."""
    await run_services(settings, settings.clock(), [chosen], keep_heap_frozen())


app.command()(simulate)
eval_app.command("scenarios")(eval_scenarios)


@app.command()
def demo(
    homes: Annotated[int, typer.Option(min=1, max=1000, help="number of simulated homes")] = 5,
    broker: Annotated[
        str | None, typer.Option(help="use this broker instead of starting mosquitto")
    ] = None,
    port: Annotated[int, typer.Option(help="dashboard port")] = 8080,
    press_every: Annotated[float, typer.Option(help="mean seconds between presses")] = 20.0,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="SQLite database folder [default: ELDERCARE_DATA_DIR or ./data]"),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="open the dashboard in a browser")
    ] = True,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve Prometheus /metrics here [default: ELDERCARE_METRICS_PORT]"),
    ] = None,
) -> None:
    """Everything in one process: broker, gateway, detector, alerting, dashboard, simulator."""
    from eldercare.app.demo import run_demo

    run_until_stopped(
        run_demo(
            homes=homes,
            broker=broker,
            port=port,
            press_every=press_every,
            # The same folder as every other command's, so `eldercare report response` after
            # the demo reports the demo's alerts (DESIGN §6).
            data_dir=data_dir or Settings().data_dir,
            open_browser=open_browser,
            metrics_port=metrics_port,
        )
    )


@app.command("db-upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (services also do this at start)."""
    settings = command_settings()

    async def go() -> None:
        engine = await prepared_engine(settings)
        await engine.dispose()

    asyncio.run(go())
    typer.echo(f"database at head: {settings.db_url}")


@app.command()
def chaos(
    minutes: Annotated[float, typer.Option(min=0.5, help="length of the fault schedule")] = 2.0,
    seed: Annotated[int, typer.Option(help="the same seed gives the same schedule")] = 11,
    json_output: Annotated[bool, typer.Option("--json", help="print JSON, not a table")] = False,
    keep_logs: Annotated[bool, typer.Option(help="keep the services' logs folder")] = False,
) -> None:
    """Run the real system as processes under a seeded schedule of faults; check what
    must hold (no alert lost or doubled, every due tier notified, …). Exit 1 on violations."""
    # Imported here: the harness is test tooling (it needs the dev extras, httpx).
    from chaos.report import as_json, as_table
    from chaos.run import chaos_run

    configure_logging("WARNING", True)
    result = asyncio.run(chaos_run(minutes, seed, keep=keep_logs))
    typer.echo(as_json(result) if json_output else as_table(result))
    if result["violations"]:
        raise typer.Exit(1)


@app.command()
def bench(
    homes: Annotated[int, typer.Option(min=1, help="homes registered and sending")] = 1000,
    seconds: Annotated[
        float, typer.Option(min=2, help="load time: half flat out, half presses under load")
    ] = 20.0,
    state_homes: Annotated[
        str, typer.Option(help="home counts for the detector state per home, comma-separated")
    ] = "1000,10000,100000",
    json_output: Annotated[bool, typer.Option("--json", help="print JSON, not a table")] = False,
    warm: Annotated[
        bool,
        typer.Option(
            "--warm/--no-warm",
            help="first hear every device once (steady state); --no-warm: a gateway's "
            "first minutes after a start",
        ),
    ] = True,
    restart_gateway: Annotated[
        bool,
        typer.Option(
            "--restart-gateway",
            help="after the warm-up, restart the gateway: its first minutes after a restart, "
            "with every device's status retained on the broker",
        ),
    ] = False,
) -> None:
    """Warm-up, raw broker rate, the whole pipeline's sustained rate and ratio to it, call button ->
    wall latency under load, RSS and detector state per home. Exit 1 if a message is lost."""
    # Imported here: the bench is tooling (it needs the dev extras, httpx).
    from benchmarks.bench import bench as run_bench
    from benchmarks.bench import failed
    from benchmarks.report import as_json, as_table

    configure_logging("WARNING", True)
    sizes = tuple(int(part) for part in state_homes.split(",") if part.strip())
    if restart_gateway and not warm:
        raise typer.BadParameter("--restart-gateway restarts a warmed-up gateway: drop --no-warm")
    result = asyncio.run(
        run_bench(homes, seconds, sizes, warm=warm, restart_gateway=restart_gateway)
    )
    typer.echo(as_json(result) if json_output else as_table(result))
    if failed(result):
        raise typer.Exit(1)

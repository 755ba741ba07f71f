"""``eldercare simulate`` (homes on a real broker) and ``eldercare eval scenarios``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eldercare.command_settings import command_settings
from eldercare.logs import configure_logging
from eldercare.progress import progress
from eldercare.shutdown import run_until_stopped

if TYPE_CHECKING:
    from eldercare.settings import Settings
    from simulator.homes import SimulatedHome


class Rate(StrEnum):
    REALISTIC = "realistic"
    MAX = "max"


def simulate(
    homes: Annotated[int, typer.Option(min=1, help="number of simulated homes")] = 5,
    broker: Annotated[str | None, typer.Option(help="mqtt://host:port")] = None,
    press_every: Annotated[
        float | None, typer.Option(help="mean seconds between random call-button presses")
    ] = None,
    register: Annotated[bool, typer.Option(help="add the homes to the device registry")] = True,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    rate: Annotated[
        Rate,
        typer.Option(
            help="realistic: each home's life at its own pace (× --speed); "
            "max: publish flat out and report messages/s"
        ),
    ] = Rate.REALISTIC,
    speed: Annotated[
        float, typer.Option(min=0.001, help="simulated seconds per wall second (realistic)")
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(min=1, help="simulated seconds to publish (default: forever; max: 1 h)"),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="resident profile for every home")] = None,
    disconnect_every: Annotated[
        float | None, typer.Option(help="fault: drop the broker connection every N wall seconds")
    ] = None,
) -> None:
    """Publish simulated homes' lives to a broker; type `press h-0001` to press a call button."""
    from eldercare.clock import RealClock
    from simulator.faults import FaultPlan
    from simulator.life import LifeConfig
    from simulator.runner import Simulator, local_today
    from simulator.stream import normal_lives

    settings = command_settings(broker_url=broker)
    config = LifeConfig(first_day=local_today(RealClock()))
    lives = normal_lives(homes, seed, config, profile_name=profile, topics=settings.topics)
    simulated = [life.home for life in lives]

    async def go() -> None:
        if register:
            await _register(settings, simulated)
        simulator = Simulator(
            settings,
            RealClock(),
            simulated,
            seed=seed,
            lives=lives,
            faults=FaultPlan(disconnect_every_s=disconnect_every),
        )
        if rate is Rate.MAX:
            report = await simulator.flood(duration or 3600.0)
            typer.echo(report.summary())
            return
        typer.echo(f"simulating {homes} homes; type: press {simulated[0].home_id}")
        paced = await simulator.run(
            press_every=press_every,
            interactive=sys.stdin.isatty(),
            speed=speed,
            duration=duration,
        )
        if paced is not None:
            typer.echo(paced.summary())

    run_until_stopped(go())


def eval_scenarios(
    json_output: Annotated[bool, typer.Option("--json", help="machine-readable report")] = False,
    homes: Annotated[int, typer.Option(min=0, help="normal homes for the false alarm rate")] = 5,
    days: Annotated[int, typer.Option(min=1, help="days of life per normal home")] = 14,
    learning_days: Annotated[
        int, typer.Option(min=0, help="normal days before each scenario and before counting")
    ] = 7,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    faults: Annotated[
        bool, typer.Option(help="inject duplicates, late and garbage messages, skewed clocks")
    ] = False,
    scenario: Annotated[
        list[str] | None, typer.Option(help="only these scenarios (repeatable)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="also write the JSON report here")] = None,
    decline_runs: Annotated[
        int, typer.Option(min=0, help="seeded runs per slow-decline scenario (0: none)")
    ] = 10,
) -> None:
    """Run every scenario through the real detector and alerting; exit 1 if one fails."""
    configure_logging("WARNING", json=True)  # before the services' modules bind loggers
    from simulator.decline import load_declines
    from simulator.evaluation import STANDARD_FAULTS, EvalConfig, evaluate, render_table
    from simulator.scenarios import load_scenarios

    chosen = [s for s in load_scenarios() if not scenario or s.name in scenario]
    declines = [d for d in load_declines() if not scenario or d.name in scenario]
    unknown = set(scenario or ()) - {s.name for s in chosen} - {d.name for d in declines}
    if unknown:
        raise typer.BadParameter(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    config = EvalConfig(
        homes=homes,
        days=days,
        learning_days=learning_days,
        seed=seed,
        faults=STANDARD_FAULTS if faults else EvalConfig().faults,
        decline_runs=decline_runs,
    )
    with progress(f"{len(chosen)} scenarios, {homes} normal homes") as report_progress:
        report = asyncio.run(evaluate(config, chosen, progress=report_progress, declines=declines))
    document = report.model_dump_json(indent=2)
    if out is not None:
        out.write_text(document + "\n", encoding="utf-8")
    typer.echo(document if json_output else render_table(report))
    if report.failed:
        raise typer.Exit(1)


async def _register(settings: Settings, homes: Sequence[SimulatedHome]) -> None:
    """Add the simulated homes to the device registry, so the gateway accepts their devices."""
    from eldercare.clock import RealClock
    from eldercare.db import prepared_engine
    from gateway.registry import register_home

    engine = await prepared_engine(settings)
    try:
        for home in homes:
            await register_home(engine, home.home_id, home.devices, now=RealClock().now())
    finally:
        await engine.dispose()

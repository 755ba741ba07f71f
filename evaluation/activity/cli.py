"""``eldercare eval adl``: recorded (and simulated) homes through the real inactivity rule."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from eldercare.logs import configure_logging
from evaluation.activity.homes_eval import (
    Cuts,
    discover,
    learned_limits,
    pooled,
    population_prior,
    score_home,
    simulated,
    table,
)


def adl(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="recordings of DATE TIME SENSOR LOCATION STATE lines: a home's folder or "
            "file, or a folder of homes (searched at any depth)"
        ),
    ] = None,
    map_file: Annotated[
        Path | None, typer.Option("--map", help="sensors.yaml: room/kind per sensor")
    ] = None,
    collapses: Annotated[int, typer.Option(min=0, help="collapse copies per home")] = 0,
    seed: Annotated[int, typer.Option(help="random seed for the collapse moments")] = 0,
    learn_days: Annotated[float, typer.Option(min=0, help="days before alarms count")] = 7.0,
    sim: Annotated[int, typer.Option(min=0, help="add this many simulated development homes")] = 0,
    sim_days: Annotated[int, typer.Option(min=2, help="days per simulated home")] = 21,
    sim_seed: Annotated[int, typer.Option(help="seed of the simulated homes")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    feedback: Annotated[
        bool, typer.Option("--feedback", help="staff mark every false alarm false at once")
    ] = False,
    loho: Annotated[
        bool,
        typer.Option(
            "--loho",
            help="leave one home out: score each home with a population prior built from "
            "the other homes given (not the shipped one)",
        ),
    ] = False,
    write_prior: Annotated[
        Path | None,
        typer.Option(help="write the population prior learned from all homes given here"),
    ] = None,
) -> None:
    """False alarms per 100 home-days and collapse detection delays, per home and pooled
    (real and simulated homes apart). Progress goes to stderr."""
    configure_logging("WARNING")  # on stderr: one line per verdict would drown the table
    sources = discover(paths or [], map_file) + simulated(sim, sim_days, sim_seed)
    if not sources:
        typer.secho("no homes: give recordings or --sim N", fg="red", err=True)
        raise typer.Exit(2)
    limits = [learned_limits(source) for source in sources] if loho or write_prior else []
    if write_prior is not None:
        write_prior.write_text(population_prior(limits).to_json() + "\n")
        typer.echo(f"prior from {len(limits)} homes written to {write_prior}", err=True)
        return
    rows = []
    cuts: dict[str, Cuts] = {}
    for number, source in enumerate(sources, 1):
        started = time.monotonic()
        prior = population_prior(limits, leave_out=source.name) if loho else None
        try:
            row, home_cuts = score_home(
                source,
                learn_days=learn_days,
                collapses=collapses,
                seed=seed,
                feedback=feedback,
                prior=prior,
            )
        except ValueError as error:
            typer.secho(str(error), fg="red", err=True)
            raise typer.Exit(2) from error
        rows.append(row)
        cuts.setdefault(source.group, []).extend(home_cuts)
        typer.echo(
            f"[{number}/{len(sources)}] {source.name}: {row['false_alarms_per_100_days']} FA/100 d "
            f"({time.monotonic() - started:.0f} s)",
            err=True,
        )
    pools = {
        group: pooled([r for r in rows if r["group"] == group], group_cuts)
        for group, group_cuts in cuts.items()
    }
    if as_json:
        typer.echo(json.dumps({"homes": rows, "pooled": pools}, indent=2))
        return
    typer.echo(table(rows, pools))

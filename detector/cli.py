"""``eldercare eval adl``: replay a recorded smart home through the real inactivity rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from detector.activity.replay import build_directory, evaluate, load_map, load_recording, to_events
from eldercare.logs import configure_logging


def adl(
    data_dir: Annotated[
        Path, typer.Argument(help="folder (or file) of DATE TIME SENSOR LOCATION STATE lines")
    ],
    map_file: Annotated[
        Path | None, typer.Option("--map", help="sensors.yaml: room/kind per sensor")
    ] = None,
    collapses: Annotated[int, typer.Option(min=0, help="collapse copies to replay")] = 0,
    seed: Annotated[int, typer.Option(help="random seed for the collapse moments")] = 0,
    learn_days: Annotated[float, typer.Option(min=0, help="days before alarms count")] = 7.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    feedback: Annotated[
        bool, typer.Option("--feedback", help="staff mark every false alarm false at once")
    ] = False,
) -> None:
    """False alarms per 100 home-days, and collapse detection delays, on a real recording."""
    configure_logging("WARNING")  # on stderr: one line per verdict would drown the table
    readings = load_recording(data_dir)
    if not readings:
        typer.secho(f"no readings found in {data_dir}", fg="red", err=True)
        raise typer.Exit(2)
    infos = build_directory(readings, load_map(map_file))
    events = to_events(readings, infos)
    summary = evaluate(
        events, infos, learn_days=learn_days, collapses=collapses, seed=seed, feedback=feedback
    ).summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(
        f"{summary['scored_days']} days scored after {learn_days:g} learning days: "
        f"{summary['false_alarms']} false alarms = {summary['false_alarms_per_100_days']} "
        f"per 100 home-days {summary['false_alarm_kinds']}, "
        f"{summary['repeat_false_alarms']} after the first in the same context"
    )
    if "collapses" in summary:
        c = summary["collapses"]
        typer.echo(
            f"collapses: {c['detected_within_12h']}/{c['count']} detected within 12 h "
            f"({c['detected_within_12h_pct']} %); delay median {c['all']['median_h']} h, "
            f"p90 {c['all']['p90_h']} h, max {c['all']['max_h']} h; "
            f"day 08-22 median {c['day_08_22']['median_h']} h, "
            f"night median {c['night']['median_h']} h"
        )

"""``eldercare report response``: the response-time figures a telecare service reports;
``eldercare report visits``: each station's monthly visit coverage (探访);
``eldercare deadletters``: the messages services set aside."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from alerting.kpis import ResponseKpis
from alerting.visits import VisitCoverage
from eldercare.settings import Settings
from eldercare.vocabulary import MONTH_PATTERN

if TYPE_CHECKING:
    from alerting.api import AlertingApi

report_app = typer.Typer(help="Reports over the alert history.", no_args_is_help=True)

T = TypeVar("T")


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


#: Shares (of critical alerts, of a station's homes): 0..1 in CSV and JSON, a percentage
#: for a person.
SHARES = {"critical_acked_60s", "critical_acked_180s", "coverage"}


def _cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    if column in SHARES and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return " ".join(map(str, value)) or "-"
    return str(value)


def render(rows: list[ResponseKpis] | list[VisitCoverage], fmt: Format) -> str:
    """One row per station and month; the columns are the row model's fields."""
    columns = list(type(rows[0]).model_fields) if rows else []
    if fmt is Format.JSON:
        return json.dumps([row.model_dump() for row in rows], ensure_ascii=False, indent=2)
    if fmt is Format.CSV:
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:  # lists (homes not reached) as one cell, ids apart by spaces
            writer.writerow({c: _csv(v) for c, v in row.model_dump().items()})
        return out.getvalue().rstrip("\n")
    cells = [columns] + [[_cell(c, getattr(row, c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells
    )


def _csv(value: object) -> object:
    return " ".join(map(str, value)) if isinstance(value, list) else value


def _check_month(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(MONTH_PATTERN, value):
        raise typer.BadParameter("use YYYY-MM, e.g. 2026-11")
    return value


@report_app.command("response")
def response(
    station: Annotated[str | None, typer.Option(help="only this station id")] = None,
    month: Annotated[
        str | None, typer.Option(help="only this month, YYYY-MM", callback=_check_month)
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, csv or json")] = Format.TABLE,
) -> None:
    """Time to acknowledge and resolve (median, p90) and the share of critical alerts
    acknowledged within 60 s and 180 s (targets 97.5 % and 99 %), per station and month."""
    rows = _with_api(lambda api: api.response_kpis(station=station, month=month))
    if not rows and fmt is Format.TABLE:
        typer.echo("no alerts in this period")
        return
    typer.echo(render(rows, fmt))


@report_app.command("visits")
def visits(
    month: Annotated[str, typer.Option(help="the month, YYYY-MM", callback=_check_month)],
    station: Annotated[str | None, typer.Option(help="only this station id")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, csv or json")] = Format.TABLE,
) -> None:
    """Monthly visit coverage (探访) per station: homes, homes reached by a visit or call,
    the share, visits in person, calls, attempts that reached nobody, and the homes not
    reached yet."""
    rows = _with_api(lambda api: api.visit_coverage(month=month, station=station))
    if not rows and fmt is Format.TABLE:
        typer.echo("no stations with homes")
        return
    typer.echo(render(rows, fmt))


def dead_letters_command(
    service: Annotated[
        str | None, typer.Option(help="only this service's, e.g. eldercare-detector")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="whole records, payload included")
    ] = False,
) -> None:
    """Messages a service failed to handle and set aside (a bug, a payload nothing accepts):
    what came in, on which topic, and the error. Each one needs a person to look at it."""
    total, letters = _with_api(lambda api: api.dead_letters(service=service, limit=limit))
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json") for item in letters], indent=2))
        return
    typer.echo(f"{total} dead letter(s) in all")
    for item in letters:
        typer.echo(
            f"{item.dead_letter_id}  {item.last_failed_at:%Y-%m-%d %H:%M:%S}  {item.service}  "
            f"{item.topic}  attempts={item.attempts}  {item.error_type}: {item.error[:120]}"
        )


def _with_api(query: Callable[[AlertingApi], Awaitable[T]]) -> T:
    """Run one read against the configured database (migrated first, like any service)."""
    settings = Settings()

    async def go() -> T:
        from alerting.api import AlertingApi
        from eldercare.clock import RealClock
        from eldercare.db import prepared_engine

        engine = await prepared_engine(settings)
        try:
            return await query(AlertingApi(engine, RealClock()))
        finally:
            await engine.dispose()

    return asyncio.run(go())

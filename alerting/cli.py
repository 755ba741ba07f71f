"""``eldercare report response``: the response-time figures a telecare service reports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from enum import StrEnum
from typing import Annotated

import typer

from alerting.kpis import ResponseKpis
from eldercare.settings import Settings

report_app = typer.Typer(help="Reports over the alert history.", no_args_is_help=True)

COLUMNS = list(ResponseKpis.model_fields)


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


#: Shares of all critical alerts: 0..1 in CSV and JSON, a percentage for a person.
SHARES = {"critical_acked_60s", "critical_acked_180s"}


def _cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    if column in SHARES and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render(rows: list[ResponseKpis], fmt: Format) -> str:
    if fmt is Format.JSON:
        return json.dumps([row.model_dump() for row in rows], ensure_ascii=False, indent=2)
    if fmt is Format.CSV:
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row.model_dump() for row in rows)
        return out.getvalue().rstrip("\n")
    cells = [COLUMNS] + [[_cell(c, getattr(row, c)) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells
    )


def _check_month(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
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
    settings = Settings()

    async def go() -> list[ResponseKpis]:
        from alerting.api import AlertingApi
        from eldercare.clock import RealClock
        from eldercare.runtime import prepared_engine

        engine = await prepared_engine(settings)
        try:
            api = AlertingApi(engine, RealClock())
            return await api.response_kpis(station=station, month=month)
        finally:
            await engine.dispose()

    rows = asyncio.run(go())
    if not rows and fmt is Format.TABLE:
        typer.echo("no alerts in this period")
        return
    typer.echo(render(rows, fmt))

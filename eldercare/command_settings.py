"""Settings for a command line: bad configuration is one red line and exit 2, not a trace.

Shared by the ``eldercare`` command and the commands that lanes mount on it (the simulator's),
so every command says the same thing about where it connects.
"""

from __future__ import annotations

from typing import Any

import typer

from eldercare.logs import configure_logging
from eldercare.settings import Settings


def command_settings(**overrides: Any) -> Settings:
    try:
        settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValueError as error:
        typer.secho(f"configuration error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_json)
    # Say where we connect: a service that silently joined whatever listens on 1883 cost
    # people time. Host and port only; the URL may carry a password.
    broker = settings.broker
    typer.echo(
        f"eldercare: broker mqtt://{broker.host}:{broker.port}, data in {settings.data_dir}",
        err=True,
    )
    return settings

"""Progress of long commands on stderr, so stdout stays the report and a run never looks hung.

At a terminal a rich progress bar; in a log or CI a line every tenth, since a bar redrawn with
carriage returns is unreadable there.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

Report = Callable[[float], None]


@contextlib.contextmanager
def progress(description: str) -> Iterator[Report]:
    """Yields ``report(share_done)``, share_done from 0 to 1."""
    if not sys.stderr.isatty():
        yield _lines(description)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=1.0)
        yield lambda done: bar.update(task, completed=done)


def _lines(description: str) -> Report:
    printed = [-1]

    def report(done: float) -> None:
        tenth = int(done * 10)
        if tenth > printed[0]:
            printed[0] = tenth
            print(f"{description}: {tenth * 10}%", file=sys.stderr, flush=True)

    return report

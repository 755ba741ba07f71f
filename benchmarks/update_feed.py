"""What the dashboard's alert update costs: queries, and time until the frame is out.

    python benchmarks/update_feed.py [--updates 100] [--busy-tasks 2 --busy-ms 2]

Registers ``--updates`` homes (the bench's registry: station, people, devices), stores an
alert for each, then hands ``UpdateFeed`` (what the dashboard's update session
calls) two updates per home, as a press makes them: the previous home's "notified" and
then this home's "open", one pair after the other, so each "open" is a new home's first
update and may have to wait for the other alert's. Per kind of update: queries per update
(``before_cursor_execute``), and ms from the pair's arrival until the frame is published to
the walls (median, p99), on a fresh SQLite file. ``--busy-tasks`` / ``--busy-ms`` share the
loop with busy tasks, as the activity feed under load would without stepping aside
(``benchmarks/alert_store.py``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from sqlalchemy import event

from alerting.api import AlertingApi
from benchmarks.alert_store import (
    START,
    add_busy_options,
    burst,
    hold_the_loop,
    on_sqlite,
    percentile,
    registered_homes,
)
from dashboards.scope import Placement
from dashboards.service import UpdateFeed
from dashboards.stream import Broadcaster
from eldercare.clock import SimulatedClock
from eldercare.models import (
    AlertStatus,
    AlertUpdate,
)


class Stamped(Broadcaster):
    """When each alert's frames went out to the walls."""

    def __init__(self) -> None:
        super().__init__()
        self.out: dict[tuple[str, str], float] = {}

    def publish(self, event: str, data: dict[str, Any], placement: Placement) -> None:
        update = data["update"]
        self.out[(update["alert_id"], update["status"])] = time.perf_counter()


async def measure(url: str, updates: int, busy_tasks: int, busy_ms: float) -> dict[str, Any]:
    engine, homes = await registered_homes(url, updates)
    api = AlertingApi(engine, SimulatedClock(START))
    for alert in burst(homes, "P"):  # the feed's work is the same for any kind of alert
        await api.record(alert)
    walls = Stamped()
    feed = UpdateFeed(api, walls, engine)
    queries: list[int] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: queries.append(1))
    handed: dict[tuple[str, str], float] = {}
    busy = [asyncio.create_task(hold_the_loop(busy_ms)) for _ in range(busy_tasks)]
    try:
        previous: str | None = None
        for home in homes:
            steps = [(previous, AlertStatus.NOTIFIED)] if previous else []
            arrived = time.perf_counter()  # both on the connection at once, as under load
            for alert_id, status in [*steps, (f"P-{home}", AlertStatus.OPEN)]:
                assert alert_id is not None
                message = AlertUpdate(alert_id=alert_id, home=home, status=status, at=START)
                handed[(alert_id, status.value)] = arrived
                await feed.handle("updates", message.to_json())
            await feed.shown()  # the next press comes later
            previous = f"P-{home}"
    finally:
        for task in busy:
            task.cancel()
        await engine.dispose()
    result: dict[str, Any] = {"queries_per_update": round(len(queries) / len(handed), 2)}
    for status in ("open", "notified"):
        took = [(walls.out[key] - at) * 1000 for key, at in handed.items() if key[1] == status]
        result[status] = {
            "ms_p50": round(statistics.median(took), 2),
            "ms_p99": round(percentile(took, 0.99), 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100)
    add_busy_options(parser)
    args = parser.parse_args()
    result = {"updates": args.updates, **on_sqlite(measure, args.updates, args)}
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Starts services as asyncio tasks: one alone (``eldercare run X``) or all in one process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from eldercare import metrics
from eldercare.clock import Clock
from eldercare.db import prepared_engine
from eldercare.loop_lag import LoopLag
from eldercare.settings import Settings


class Service(StrEnum):
    GATEWAY = "gateway"
    DETECTOR = "detector"
    ALERTING = "alerting"
    DASHBOARD = "dashboard"


def _service(
    name: Service, settings: Settings, clock: Clock, engine: AsyncEngine
) -> Coroutine[Any, Any, None]:
    # Imported here so that running one service does not import the others.
    if name is Service.GATEWAY:
        from gateway.service import run as run_gateway

        return run_gateway(settings, clock, engine)
    if name is Service.DETECTOR:
        from detector.service import run as run_detector

        return run_detector(settings, clock, engine=engine)
    if name is Service.ALERTING:
        from alerting.service import run as run_alerting

        return run_alerting(settings, clock, engine)
    from dashboards.service import run as run_dashboard

    return run_dashboard(settings, clock, engine)


async def run_services(
    settings: Settings,
    clock: Clock,
    services: Sequence[Service],
    *extra: Coroutine[Any, Any, None],
    engine: AsyncEngine | None = None,
) -> None:
    """Run the given services (and any extra coroutines, e.g. a simulator) until cancelled,
    with one ``/metrics`` endpoint for all of them when ``metrics_port`` is set."""
    own_engine = engine is None
    engine = engine or await prepared_engine(settings, wait=True)
    try:
        async with asyncio.TaskGroup() as group:
            if settings.metrics_port is not None:
                group.create_task(metrics.serve(settings), name="metrics")
                lag = LoopLag()
                group.create_task(lag.run(), name="loop-lag")
                group.create_task(metrics.export(lag.readings))
            for name in services:
                group.create_task(_service(name, settings, clock, engine), name=name.value)
            for coroutine in extra:
                group.create_task(coroutine)
    finally:
        if own_engine:
            await engine.dispose()

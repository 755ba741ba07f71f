"""One chaos run: start the real system, play the plan against it, check what must hold.

Everything started here is stopped in ``finally`` (process groups killed, the database
dropped, temp folders removed), Ctrl+C included; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from chaos.injector import Injector
from chaos.invariants import (
    Observations,
    StoredAlert,
    StoredNotification,
    StoredTimer,
    Violation,
    check_all,
)
from chaos.observers import SideChannels, Wall
from chaos.processes import ServiceProcess, Supervisor
from chaos.proxy import CuttableProxy
from chaos.receiver import NotificationReceiver
from chaos.schedule import OUTAGES, SERVICES, Fault, FaultKind, Plan, build_plan
from chaos.victoria import LocalVictoriaMetrics
from chaos.world import (
    create_database,
    drop_database,
    local_now,
    seed,
    service_env,
    wake_by_for,
    write_routines,
)
from eldercare.broker import LocalMosquitto, free_port
from eldercare.clock import ScaledClock
from eldercare.db import prepared_engine
from eldercare.db.models import AlertRow, EscalationTimerRow, NotificationRow
from eldercare.healthcheck import service_online
from eldercare.settings import Settings
from eldercare.topics import Topics

START_TIMEOUT_S = 120.0
SETTLE_S = 20.0
#: A trigger this long after a service came back may still wait on its start-up.
RECOVERY_S = 15.0
PRESENCE = {
    "gateway": "eldercare-gateway",
    "detector": "eldercare-detector",
    "alerting": "eldercare-alerting",
}


def clock_speed(minutes: float) -> float:
    """About 25 simulated minutes per run, so every escalation tier comes due in a short
    run; never slower than real time."""
    return min(12.0, max(1.0, 25.0 / minutes))


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Run:
    plan: Plan
    folder: Path
    broker: LocalMosquitto
    victoria: LocalVictoriaMetrics
    db_proxy: CuttableProxy
    series_proxy: CuttableProxy
    supervisor: Supervisor
    injector: Injector
    started: float = 0.0
    outages: list[tuple[float, float]] = field(default_factory=list)
    series_accepted: int = 0
    applied: list[dict[str, Any]] = field(default_factory=list)

    async def down_for(self, fault: Fault, stop: Any, start: Any) -> None:
        began = time.monotonic()
        await asyncio.to_thread(stop)
        await asyncio.sleep(fault.duration_s)
        await asyncio.to_thread(start)
        if fault.kind in OUTAGES:
            self.outages.append((began, time.monotonic() + RECOVERY_S))

    def _kill(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.supervisor.services[name].kill()

    def _restart(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.supervisor.services[name].start()

    def _cut_series(self) -> None:
        self.series_proxy.cut()
        self.series_accepted += self.victoria.influx_rows_inserted()
        self.victoria.stop()

    def _restore_series(self) -> None:
        self.victoria.start()
        self.series_proxy.restore()

    async def apply(self, fault: Fault) -> None:
        progress(f"chaos fault {fault.describe()}")
        self.applied.append({"at_s": fault.at_s, "fault": fault.describe()})
        kind = fault.kind
        if kind in (FaultKind.KILL_ONE, FaultKind.KILL_TWO):
            await self.down_for(
                fault, lambda: self._kill(fault.targets), lambda: self._restart(fault.targets)
            )
        elif kind is FaultKind.BROKER_RESTART:
            await self.down_for(fault, self.broker.stop, self.broker.start)
        elif kind is FaultKind.DB_CUT:
            await self.down_for(fault, self.db_proxy.cut, self.db_proxy.restore)
        elif kind is FaultKind.TIMESERIES_CUT:
            await self.down_for(fault, self._cut_series, self._restore_series)
        else:
            triggers = {t.id: t for t in self.plan.triggers}
            messages = self.injector.bad_traffic(fault, triggers)
            if messages:
                qos = 1 if kind is FaultKind.FLOOD else 0
                await self.injector.publish(messages, qos=qos)

    async def at(self, offset_s: float, action: Any) -> None:
        await asyncio.sleep(max(0.0, self.started + offset_s - time.monotonic()))
        await action

    async def play(self) -> None:
        self.started = time.monotonic()
        jobs = [self.at(t.at_s, self.injector.trigger(t)) for t in self.plan.triggers]
        jobs += [self.at(f.at_s, self.apply(f)) for f in self.plan.faults]

        async def watch_crashes() -> None:
            while True:
                await asyncio.to_thread(self.supervisor.check)
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch_crashes())
        try:
            await asyncio.gather(*jobs)
            await asyncio.sleep(SETTLE_S)
        finally:
            watcher.cancel()


async def wait_online(settings: Settings, wall: Wall, names: list[str]) -> dict[str, bool]:
    """Presence of every service and the wall's stream, polled until a deadline."""
    give_up = time.monotonic() + START_TIMEOUT_S
    healthy: dict[str, bool] = {}
    while time.monotonic() < give_up:
        for name in names:
            healthy[name] = await service_online(settings, PRESENCE[name], wait_s=2)
        healthy["dashboard"] = wall.connected.is_set()
        if all(healthy.values()):
            break
        await asyncio.sleep(1)
    return healthy


async def read_back(engine: AsyncEngine, seen: Observations) -> None:
    async with engine.begin() as db:
        alerts = (await db.execute(select(AlertRow.__table__))).mappings().all()
        seen.alerts = [
            StoredAlert(
                a["id"],
                a["home_id"],
                a["kind"],
                a["status"],
                a["trigger_count"],
                tuple((e.get("device", ""), e.get("seq") or -1) for e in a["evidence"]),
            )
            for a in alerts
        ]
        timers = (await db.execute(select(EscalationTimerRow.__table__))).mappings().all()
        seen.timers = [
            StoredTimer(t["alert_id"], t["tier"], t["due_at"], t["status"]) for t in timers
        ]
        notes = (await db.execute(select(NotificationRow.__table__))).mappings().all()
        seen.notifications = [
            StoredNotification(
                n["alert_id"],
                n["tier"],
                n["recipient"],
                n["purpose"],
                n["idempotency_key"],
                n["status"],
            )
            for n in notes
        ]
        tables = await db.run_sync(lambda sync: inspect(sync).get_table_names())
        if "dead_letters" in tables:
            seen.dead_letters = (
                await db.execute(text("SELECT count(*) FROM dead_letters"))
            ).scalar()


def spool_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("spool/**/*") if p.is_file())


async def chaos_run(minutes: float, seed_value: int, keep: bool = False) -> dict[str, Any]:
    plan = build_plan(minutes, seed_value)
    speed = clock_speed(minutes)
    anchor = datetime.now(UTC)
    clock = ScaledClock(anchor, speed)
    folder = Path(tempfile.mkdtemp(prefix=f"eldercare-chaos-{seed_value}-"))
    database = f"chaos_{seed_value}_{os.getpid()}"
    topics = Topics()
    progress(
        f"chaos seed {seed_value}: {minutes:g} min, {len(plan.faults)} faults, "
        f"{len(plan.triggers)} triggers, clock x{speed:g}, logs in {folder}"
    )
    await create_database(database)
    stack = contextlib.AsyncExitStack()
    supervisor: Supervisor | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        broker = stack.enter_context(LocalMosquitto())
        victoria = stack.enter_context(LocalVictoriaMetrics())
        db_proxy = stack.enter_context(CuttableProxy("127.0.0.1", 5432))
        series_proxy = stack.enter_context(CuttableProxy("127.0.0.1", victoria.port))
        receiver = await stack.enter_async_context(NotificationReceiver())
        direct = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        engine = await prepared_engine(Settings(database_url=direct))
        stack.push_async_callback(engine.dispose)
        username, password = await seed(engine, clock, plan, receiver.port)
        wake_by = wake_by_for(local_now(clock))
        write_routines(folder / "routines", plan, wake_by)
        http_port = free_port()
        env = service_env(
            broker_port=broker.port,
            database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{db_proxy.port}/{database}",
            influx_url=f"http://127.0.0.1:{series_proxy.port}",
            folder=folder,
            receiver_port=receiver.port,
            http_port=http_port,
            anchor=anchor,
            speed=speed,
        )
        supervisor = Supervisor(
            {name: ServiceProcess(name, env, folder / name) for name in SERVICES}
        )
        supervisor.start_all()
        injector = Injector(broker.port, topics, clock)
        wall = Wall(f"http://127.0.0.1:{http_port}", username, password)
        side = SideChannels(broker.port, topics)
        tasks = [asyncio.create_task(wall.watch()), asyncio.create_task(side.watch())]
        settings = Settings(broker_url=broker.url)
        started = await wait_online(settings, wall, list(PRESENCE))
        if not all(started.values()):
            raise RuntimeError(f"services did not start: {started}; logs in {folder}")
        progress("chaos: all services online; playing the plan")
        if wake_by:
            await injector.in_bed(plan.wake_home)
        run = Run(plan, folder, broker, victoria, db_proxy, series_proxy, supervisor, injector)
        await run.play()

        seen = Observations(
            published=injector.published, outages=run.outages, deliveries=receiver.deliveries
        )
        seen.healthy = await wait_online(settings, wall, list(PRESENCE))
        seen.crashes = list(supervisor.crashes)
        seen.end_sim = clock.now()
        seen.due_grace = timedelta(seconds=SETTLE_S * speed)
        seen.fall_confirm_wall_s = 15.0 / speed
        seen.sightings = list(wall.sightings)
        await asyncio.to_thread(supervisor.stop_all)
        await read_back(engine, seen)
        seen.quarantined = {key: set(value) for key, value in side.quarantined.items()}
        if side.dead_letters:
            seen.dead_letters = max(seen.dead_letters or 0, len(side.dead_letters))
        series_proxy.cut()
        seen.series_accepted = run.series_accepted + victoria.influx_rows_inserted()
        seen.series_held = sum(victoria.export().values())
        seen.series_spooled_left = spool_bytes(folder)
        flooded = any(f.kind is FaultKind.FLOOD for f in plan.faults)
        violations = check_all(plan, seen, wake_expected=wake_by is not None, flooded=flooded)
        return summary(plan, speed, run.applied, violations, seen, wake_by)
    finally:
        for task in tasks:
            task.cancel()
        if supervisor is not None:
            await asyncio.to_thread(supervisor.stop_all)
        await stack.aclose()
        await drop_database(database)
        if keep:
            progress(f"chaos: logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def summary(
    plan: Plan,
    speed: float,
    applied: list[dict[str, Any]],
    violations: list[Violation],
    seen: Observations,
    wake_by: str | None,
) -> dict[str, Any]:
    return {
        "seed": plan.seed,
        "minutes": plan.minutes,
        "clock_speed": speed,
        "homes": len(plan.homes),
        "triggers": len(plan.triggers),
        "published": len(seen.published),
        "no_wake_up": f"wake_by {wake_by}" if wake_by else "not testable at this local time",
        "faults": applied,
        "alerts": len(seen.alerts),
        "notifications_delivered": len(seen.deliveries),
        "series_samples": seen.series_held,
        "violations": [v.as_dict() for v in violations],
    }

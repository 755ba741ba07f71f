"""``eldercare bench``: one run, one machine, the four figures of DESIGN §8 side by side.

0. warm-up (unless ``warm`` is off): every device of every home heard once, and the
   detector has received it all, so phases 2 and 3 measure the steady state a district's
   gateway runs in, not its first minutes after a start (``benchmarks.phases``); its
   messages are counted with the rest, and lost ones fail the run like any other;
   with ``restart_gateway`` the gateway process is then restarted (SIGTERM, as a deploy
   does), so phases 2 and 3 measure its first minutes after a restart, every device's
   status retained on the broker (``Gateway.restore_statuses``), from the end of its read
   (the restart's seconds until its main session is connected and until the read is done
   are both reported);
1. the raw broker rate with pipelined C clients (``benchmarks.raw_broker``);
2. the whole pipeline's sustained rate on a district's mix, every service its own process,
   and its ``ratio`` to (1); every message counted: what the load generator published must
   all be accepted by the gateway (none quarantined or rate-limited) and received by the
   detector, or the run fails;
3. call button → alert on the dashboard's stream while the homes' ordinary traffic flows:
   ``p50``, ``p95``, ``p99`` in ms;
4. RSS per service, and detector state per home at 1 k, 10 k and 100 k homes.

With (2) go each service's CPU per message in that phase (``process_cpu_seconds_total``
from its ``/metrics``), which says where the machine's time goes; it rises with the other
jobs on the machine too, so compare runs made side by side. With (3) go the alerts the
detector raised during the run, by kind: between the homes' wake-up deadline and 16:00
local time its first tick raises ``no_wake_up`` for every home not yet seen in a day room
since it started (14-252 of 1 000 homes in a run), and every one of them costs alerting and
the dashboard far more than a message, so runs with different bursts do not compare.

The raw rate and the pipeline share the broker and the machine, in the same run, so the
ratio holds whatever else runs on the machine; the absolute figures do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from benchmarks.hops import HOPS, HopListener, PressTimes
from benchmarks.phases import (
    PER_HOME_PER_S,
    background,
    drained,
    press_latencies,
    published,
    sustained,
    warm_up,
)
from benchmarks.publisher import Publisher
from benchmarks.raw_broker import raw_rate
from benchmarks.state_size import state_size
from benchmarks.system import SERVICES, Scrape, System, running_system
from eldercare.broker import LocalMosquitto
from eldercare.heap import keep_heap_frozen
from eldercare.loop_lag import BOUNDS, LOOP_STALLS, LoopLag
from eldercare.progress import progress
from eldercare.topics import Channel
from simulator.layout import STANDARD_DEVICES, WALL_BUTTON
from simulator.load import DeviceTraffic

RAW_MESSAGES = 50_000
STATE_HOMES = (1_000, 10_000, 100_000)
MIB = 1024 * 1024


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.asynccontextmanager
async def _frozen_heap() -> AsyncIterator[None]:
    """The load generator's own heap frozen too (``eldercare.heap``): its full collections
    (0.14 s once its 10 000 homes' counters were made) held the press's publish and the
    hop listener's stamps, and counted as the gateway's time."""
    task = asyncio.create_task(keep_heap_frozen())
    try:
        yield
    finally:
        task.cancel()


def hop_summary(presses: list[PressTimes]) -> dict[str, dict[str, float | None]]:
    """Per hop, ms spent from the previous hop's output to its own (p50, p99, max), over the
    presses seen at every hop; ``seen`` counts those."""
    spans = [s for press in presses if (s := press.spans()) is not None]
    summary: dict[str, dict[str, float | None]] = {}
    for hop in HOPS:
        values = [s[hop] for s in spans]
        summary[hop] = {
            name: _ms(percentile(values, share))
            for name, share in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))
        }
    summary["seen"] = {"presses": len(spans)}
    return summary


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)


def home_ids(count: int) -> list[str]:
    return [f"h-{number:05d}" for number in range(count)]


GATEWAY_COUNTS = {
    "gateway_accepted": "eldercare_gateway_accepted_total",
    "gateway_quarantined": "eldercare_gateway_quarantined_total",
    "gateway_rate_limited": "eldercare_gateway_rate_limited_dropped_total",
}


async def _gateway_counts(system: System) -> dict[str, int]:
    """The gateway's own counters (a restarted gateway's start from zero again)."""
    gateway = await system.scrape("gateway")
    return {key: int(gateway.total(name)) for key, name in GATEWAY_COUNTS.items()}


async def _counts(
    system: System, traffic: DeviceTraffic, earlier: dict[str, int] | None = None
) -> dict[str, int]:
    """Everything published against what the gateway (with ``earlier``, its counts before
    a restart) and the detector say they got."""
    gateway, detector = await _gateway_counts(system), await system.scrape("detector")
    counts = {"published": published(traffic)}
    counts |= {key: value + (earlier or {}).get(key, 0) for key, value in gateway.items()}
    for channel in (Channel.EVENT, Channel.TELEMETRY):
        sent = traffic.counts[channel]
        got = detector.total("eldercare_detector_received_total", channel=str(channel))
        counts[f"{channel}_published"], counts[f"{channel}_received"] = sent, int(got)
    counts["lost"] = (
        max(0, counts["published"] - counts["gateway_accepted"])
        + sum(
            max(0, traffic.counts[c] - counts[f"{c}_received"])
            for c in Channel
            if c in traffic.counts
        )
        + counts["gateway_quarantined"]
        + counts["gateway_rate_limited"]
    )
    return counts


async def _cpu_s(system: System) -> dict[str, float]:
    return {
        name: (await system.scrape(name)).total("process_cpu_seconds_total") for name in SERVICES
    }


def cpu_ms_per_message(
    before: dict[str, float], after: dict[str, float], messages: int
) -> dict[str, float]:
    """Each service's CPU between two readings, in ms per message handled in between."""
    return {
        name: round(1000 * (after[name] - before[name]) / max(1, messages), 3) for name in after
    }


async def _stalls(system: System, own: LoopLag) -> dict[str, dict[str, float]]:
    """Each service's event-loop stalls so far, by bound (``eldercare.loop_lag``), and the
    bench's own: it stamps every hop and holds the wall's stream, so a stall here shows as
    the hops' latency too."""
    stalls = {"bench": {str(bound): float(count) for bound, count in own.stalls.items()}}
    for name in SERVICES:
        scrape = await system.scrape(name)
        stalls[name] = {
            str(bound): scrape.total(LOOP_STALLS.exposed_name, over=str(bound)) for bound in BOUNDS
        }
    return stalls


def stalls_between(
    before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]
) -> dict[str, dict[str, int]]:
    """Stalls per service and bound between two readings: how often each loop was held
    longer than the bound, whatever else ran on the machine."""
    return {
        name: {bound: int(count - before[name][bound]) for bound, count in bounds.items()}
        for name, bounds in after.items()
    }


async def _alerts_raised(system: System) -> dict[str, int]:
    """Alerts the detector raised so far, by kind."""
    scrape = await system.scrape("detector")
    raised = [s for s in scrape.samples if s.name == "eldercare_detector_alerts_raised_total"]
    return {s.labels["kind"]: int(s.value) for s in sorted(raised, key=lambda s: s.labels["kind"])}


async def _statuses(system: System) -> int:
    """Device statuses the detector received so far. The gateway publishes one the first
    time it hears from a device (and one for its home): at 10 000 homes (160 000 devices)
    most messages of a short run are a device's first, so each costs every service two."""
    scrape = await system.scrape("detector")
    return int(scrape.total("eldercare_detector_received_total", channel=str(Channel.STATUS)))


def _connected(scrape: Scrape) -> bool:
    """The restarted gateway's main session is connected (and subscribed)."""
    return scrape.total("eldercare_mqtt_connected", service="eldercare-gateway") > 0


def _read(scrape: Scrape) -> bool:
    """The restarted gateway has read its retained statuses back: its main session's
    messages, held meanwhile, are handled from then on."""
    return scrape.total("eldercare_gateway_statuses_read") > 0


async def _restored(system: System) -> dict[str, int]:
    """The restarted gateway's retained statuses read back, by outcome."""
    scrape = await system.scrape("gateway")
    name = "eldercare_gateway_statuses_restored_total"
    return {s.labels["outcome"]: int(s.value) for s in scrape.samples if s.name == name}


async def _rss(system: System) -> dict[str, float]:
    return {
        name: round((await system.scrape(name)).total("process_resident_memory_bytes") / MIB, 1)
        for name in SERVICES
    }


async def _warm_up(
    system: System, traffic: DeviceTraffic, publisher: Publisher, homes: int
) -> dict[str, Any]:
    """Phase 0, with the statuses it made the gateway publish (two per device and home
    heard for the first time, about one per message)."""
    statuses_before = await _statuses(system)
    devices = [device.id for device in STANDARD_DEVICES]
    with progress(f"warm-up: {homes * len(devices)} devices heard once") as report:
        warm = await warm_up(system, traffic, publisher, devices, report)
    return {
        "enabled": True,
        "messages": warm.messages,
        "seconds": round(warm.seconds, 1),
        "per_s": round(warm.messages / warm.seconds),
        "drained": warm.drained,
        "statuses": await _statuses(system) - statuses_before,
    }


async def bench(
    homes: int,
    seconds: float,
    state_homes: tuple[int, ...] = STATE_HOMES,
    *,
    warm: bool = True,
    restart_gateway: bool = False,
) -> dict[str, Any]:
    names = home_ids(homes)
    traffic = DeviceTraffic(names)
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()}: {os.cpu_count()} CPUs, {platform.platform()}",
        "homes": homes,
        "seconds": seconds,
    }
    with LocalMosquitto() as broker:
        sample = DeviceTraffic(names, seed=1)  # same mix and sizes, counted apart
        raw = await raw_rate(broker.port, [payload for _, payload in sample.batch(RAW_MESSAGES)])
        result["raw_per_s"], result["raw_client"] = round(raw.messages_per_s), raw.client
        async with (
            running_system(names, broker) as system,
            Publisher(broker.port) as publisher,
            _frozen_heap(),
        ):
            result["warm_up"] = (
                await _warm_up(system, traffic, publisher, homes)
                if warm
                else {"enabled": False, "messages": 0}
            )
            earlier = None
            if restart_gateway:
                earlier = await _gateway_counts(system)
                with progress("gateway: restarting"):
                    connected, read = await system.restart("gateway", _connected, _read)
                result["gateway_restart_s"] = round(connected, 1)
                result["gateway_statuses_read_s"] = round(read, 1)
                result["statuses_restored"] = await _restored(system)
            own_lag = LoopLag()
            probe = asyncio.create_task(own_lag.run())
            cpu_before, statuses_before = await _cpu_s(system), await _statuses(system)
            flat_out = await sustained(system, traffic, publisher, seconds / 2)
            cpu = cpu_ms_per_message(cpu_before, await _cpu_s(system), flat_out.messages)
            statuses = await _statuses(system) - statuses_before
            per_s = PER_HOME_PER_S * homes
            stop = asyncio.Event()
            load = asyncio.create_task(background(traffic, publisher, per_s, stop))
            stalls_before = await _stalls(system, own_lag)
            try:
                with HopListener(broker.port, traffic.topics, WALL_BUTTON) as listener:
                    presses, missed = await press_latencies(
                        system, traffic, names, seconds / 2, listener
                    )
            finally:
                stop.set()
                await load
            stalls = stalls_between(stalls_before, await _stalls(system, own_lag))
            probe.cancel()
            await drained(system, traffic)
            counts = await _counts(system, traffic, earlier)
            counts["warm_up_published"] = result["warm_up"]["messages"]
            alerts = await _alerts_raised(system)
            result["rss_mib"] = await _rss(system)
            crashed = system.crashed()
    latencies = [press.hops["dashboard"] - press.pressed for press in presses]
    result.update(
        pipeline_per_s=round(flat_out.per_s),
        flat_out_messages=flat_out.messages,
        ratio=round(flat_out.per_s / raw.messages_per_s, 3),
        cpu_ms_per_msg=cpu,
        statuses_per_msg=round(statuses / max(1, flat_out.messages), 3),
        background_per_s=per_s,
        presses=len(latencies) + missed,
        presses_missed=missed,
        **{
            name: None
            if (value := percentile(latencies, share)) is None
            else round(1000 * value, 1)
            for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        },
        max_ms=round(1000 * max(latencies), 1) if latencies else None,
        press_hops_ms=hop_summary(presses),
        loop_stalls_in_press_phase=stalls,
        alerts_raised=alerts,
        counts=counts,
        lost=counts["lost"],
        crashed=crashed,
    )
    sizes = [state_size(count) for count in state_homes]
    result["state_bytes_per_home"] = {str(s.homes): round(s.heap_bytes_per_home) for s in sizes}
    result["checkpoint_bytes_per_home"] = {
        str(s.homes): round(s.checkpoint_bytes_per_home) for s in sizes
    }
    return result


def failed(result: dict[str, Any]) -> bool:
    """Lost messages, a press that never reached the wall, or a service that died."""
    return bool(result["lost"] or result["presses_missed"] or result["crashed"])

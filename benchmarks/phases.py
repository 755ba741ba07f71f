"""Parts 2 and 3 of the bench, against a running system (``benchmarks.system``).

Warm-up: a heartbeat from every device of every home, paced like the sustained rate, until
the detector has received them all. A gateway publishes a device's status the first time it
hears it after a start; a district's gateway runs for days and has long heard every device,
so without this the measured phases are a gateway's first minutes (at 10 000 homes most of a
20 s run's messages are a device's first, each costing every service a status more).

Sustained rate: the load generator publishes the district's mix flat out, but keeps at most
``BACKLOG`` messages ahead of what the detector has received (its ``/metrics``), so the
figure is what the pipeline handles, not how fast the broker can queue; the clock stops
when the detector has received the last one.

Latency: call-button presses, each in another home (a second press of an open alert only
attaches to it), while the homes' ordinary traffic flows at a realistic rate; each measured
from the publish to the alert's frame on the dashboard's SSE stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from benchmarks.hops import HOPS, HopListener, PressTimes
from benchmarks.publisher import WINDOW, Publisher
from benchmarks.system import System
from eldercare.progress import Report
from eldercare.topics import Channel
from simulator.layout import WALL_BUTTON
from simulator.load import DeviceTraffic

BACKLOG = 4 * WINDOW
POLL_S = 0.2
PRESS_EVERY_S = 0.25
PRESS_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 30.0
#: A district's homes send ~0.15 messages a second each (issue 18: 10 000 homes, 1-2 k/s).
PER_HOME_PER_S = 0.15


def published(traffic: DeviceTraffic) -> int:
    return traffic.counts[Channel.EVENT] + traffic.counts[Channel.TELEMETRY]


async def received(system: System) -> int:
    """Normalised events and telemetry the detector has received."""
    scrape = await system.scrape("detector")
    return int(
        scrape.total("eldercare_detector_received_total", channel=str(Channel.EVENT))
        + scrape.total("eldercare_detector_received_total", channel=str(Channel.TELEMETRY))
    )


async def drained(system: System, traffic: DeviceTraffic) -> bool:
    """True once the detector has received everything published so far."""
    give_up = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < give_up:
        if await received(system) >= published(traffic):
            return True
        await asyncio.sleep(POLL_S / 2)
    return False


@dataclass(frozen=True, slots=True)
class Sustained:
    messages: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds


async def _paced(
    system: System,
    traffic: DeviceTraffic,
    publisher: Publisher,
    batches: Iterator[list[tuple[str, bytes]]],
) -> None:
    """Send every batch, at most ``BACKLOG`` messages ahead of what the detector has
    received; a batch is made (and stamped) only once there is room for it."""
    done = await received(system)
    polled = time.monotonic()
    while True:
        if time.monotonic() - polled > POLL_S:
            done, polled = await received(system), time.monotonic()
        if published(traffic) - done >= BACKLOG:
            await asyncio.sleep(POLL_S / 4)
            continue
        batch = next(batches, None)
        if batch is None:
            return
        await publisher.send(batch)


def _flat_out_for(traffic: DeviceTraffic, seconds: float) -> Iterator[list[tuple[str, bytes]]]:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        yield traffic.batch(WINDOW)


async def sustained(
    system: System, traffic: DeviceTraffic, publisher: Publisher, seconds: float
) -> Sustained:
    before = published(traffic)
    started = time.perf_counter()
    await _paced(system, traffic, publisher, _flat_out_for(traffic, seconds))
    # Whatever never arrives shows in the final counts as lost (and fails the run).
    await drained(system, traffic)
    return Sustained(published(traffic) - before, time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class WarmUp:
    messages: int
    seconds: float
    drained: bool


async def warm_up(
    system: System,
    traffic: DeviceTraffic,
    publisher: Publisher,
    devices: Sequence[str],
    report: Report,
) -> WarmUp:
    """Every device of every home heard once, and the detector has received it all (or
    ``drained`` is False: what never arrives is counted lost at the end of the run)."""
    before, started = published(traffic), time.perf_counter()
    total = len(traffic.homes) * len(devices)

    def reported() -> Iterator[list[tuple[str, bytes]]]:
        for batch in traffic.roll_call(devices, WINDOW):
            report((published(traffic) - before) / total)
            yield batch

    await _paced(system, traffic, publisher, reported())
    emptied = await drained(system, traffic)
    report(1.0)
    return WarmUp(published(traffic) - before, time.perf_counter() - started, emptied)


async def background(
    traffic: DeviceTraffic, publisher: Publisher, per_s: float, stop: asyncio.Event
) -> None:
    """Until ``stop`` is set: ``per_s`` messages a second, in tenths of a second. A batch is
    counted as published when it is made, so it is always sent whole: cancelled mid-batch,
    the rest was never sent and counted as lost (67-134 "lost" messages in a run)."""
    owed, started = 0.0, time.perf_counter()
    sent = 0
    while not stop.is_set():
        owed = per_s * (time.perf_counter() - started) - sent
        if owed >= 1:
            batch = traffic.batch(int(owed))
            sent += len(batch)
            await publisher.send(batch)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def _alert_seen(system: System, home: str, after: float) -> float | None:
    """When the wall showed ``home``'s call-button alert (monotonic), polled every 2 ms."""
    give_up = after + PRESS_TIMEOUT_S
    checked = 0
    while time.monotonic() < give_up:
        sightings = system.wall.sightings
        for sighting in sightings[checked:]:
            if sighting.home == home and sighting.kind == "call_button" and sighting.at >= after:
                return sighting.at
        checked = len(sightings)
        await asyncio.sleep(0.002)
    return None


async def press_latencies(
    system: System,
    traffic: DeviceTraffic,
    homes: Sequence[str],
    seconds: float,
    listener: HopListener,
) -> tuple[list[PressTimes], int]:
    """Each press seen on the wall, with when it passed each hop the ``listener`` saw; and
    how many never showed. The presses go out on the listener's connection (``press``)."""
    count = max(1, min(len(homes), int(seconds / PRESS_EVERY_S)))
    presses: list[PressTimes] = []
    missed = 0
    for home in homes[:count]:
        pressed = listener.press(*traffic.press(home, WALL_BUTTON))
        seen = await _alert_seen(system, home, pressed)
        if seen is None:
            missed += 1
        else:
            press = PressTimes(pressed, {"dashboard": seen})
            for hop in HOPS[:-1]:
                if (at := listener.seen(hop, home)) is not None:
                    press.hops[hop] = at
            presses.append(press)
        await asyncio.sleep(max(0.0, pressed + PRESS_EVERY_S - time.monotonic()))
    return presses, missed

"""Faults a real fleet shows, injectable per run: the pipeline must survive all of them.

Applied to the stream of emissions, so the same faults hit the in-process evaluation and
the broker mode alike: redelivered duplicates (QoS 1 after a reconnect), out-of-order
delivery (a terminal flushing its buffer), garbage payloads (firmware bugs, bit rot).
Clock skew is a property of a device, so it is applied where readings are stamped
(``SimulatedHome.clock_skew_s``). Broker disconnects only exist in broker mode
(``simulator.runner``).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from simulator.homes import Emission, SimulatedHome

GARBAGE = (
    b"{not json",
    b'{"schema":1,"home":',
    b"\x00\xff\xfe garbage",
    b'{"schema":1,"seq":"x","type":"motion"}',
    b"[]",
)


class FaultPlan(BaseModel):
    """How often each fault happens; all zero is a clean run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duplicate: float = Field(0.0, ge=0, le=1, description="share of messages delivered twice")
    out_of_order: float = Field(0.0, ge=0, le=1, description="share delivered late")
    max_delay_s: float = Field(30.0, gt=0, description="how late a late message can be")
    garbage: float = Field(0.0, ge=0, le=1, description="extra malformed payloads per message")
    skewed_devices: float = Field(
        0.0, ge=0, le=1, description="share of devices with a wrong clock"
    )
    max_skew_s: float = Field(120.0, ge=0, description="how wrong a wrong clock is (±)")
    disconnect_every_s: float | None = Field(
        None, gt=0, description="broker mode: drop the connection this often (wall seconds)"
    )

    @property
    def clean(self) -> bool:
        return not (self.duplicate or self.out_of_order or self.garbage or self.skewed_devices)


def skew_clocks(homes: Iterable[SimulatedHome], plan: FaultPlan, rng: random.Random) -> None:
    for home in homes:
        for spec in home.devices:
            if rng.random() < plan.skewed_devices:
                home.clock_skew_s[spec.id] = rng.uniform(-plan.max_skew_s, plan.max_skew_s)


def inject(stream: Iterable[Emission], plan: FaultPlan, rng: random.Random) -> Iterator[Emission]:
    """Re-time and add messages; the output is again ordered by delivery time."""
    if plan.clean:
        yield from stream
        return
    held: list[tuple[float, int, Emission]] = []
    order = itertools.count()
    for emission in stream:
        while held and held[0][0] <= emission.at:
            yield heapq.heappop(held)[2]
        if rng.random() < plan.out_of_order:
            late = replace(emission, at=emission.at + rng.uniform(1.0, plan.max_delay_s))
            heapq.heappush(held, (late.at, next(order), late))
        else:
            yield emission
        if rng.random() < plan.duplicate:
            again = replace(emission, at=emission.at + rng.uniform(0.05, 2.0))
            heapq.heappush(held, (again.at, next(order), again))
        if rng.random() < plan.garbage:
            bad = replace(
                emission, payload=rng.choice(GARBAGE), kind="garbage", at=emission.at + 0.01
            )
            heapq.heappush(held, (bad.at, next(order), bad))
    while held:
        yield heapq.heappop(held)[2]

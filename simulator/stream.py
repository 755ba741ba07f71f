"""The discrete-event core: many homes' lives merged into one time-ordered stream.

A pure generator of (delivery time, topic, payload) — no clock, no broker — so the same
stream feeds the in-process evaluation (which sets a ``SimulatedClock`` to each message's
time), the broker mode (which paces it against a real or accelerated clock) and the
load generator (which ignores time and publishes flat out).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter

from eldercare.topics import Topics
from simulator.faults import FaultPlan, inject, skew_clocks
from simulator.homes import Emission, SimulatedHome
from simulator.life import HomeLife, LifeConfig, stable_seed
from simulator.profiles import minutes, profile
from simulator.routine import DAY_S
from simulator.scenarios import Scenario

#: Who lives in the homes of a run when no profile is named: mostly typical, some frail.
POPULATION = (("typical", 0.6), ("frail", 0.25), ("active", 0.15))


def normal_lives(
    count: int,
    seed: int,
    config: LifeConfig | None = None,
    *,
    profile_name: str | None = None,
    topics: Topics | None = None,
    first: int = 1,
    keep_plans: bool = False,
) -> list[HomeLife]:
    config = config or LifeConfig()
    chooser = random.Random(stable_seed(seed, "population"))
    names, weights = zip(*POPULATION, strict=True)
    lives = []
    for number in range(first, first + count):
        home = SimulatedHome(f"h-{number:04d}", topics=topics or Topics())
        name = profile_name or chooser.choices(names, weights)[0]
        lives.append(HomeLife(home, profile(name), seed, config, keep_plans=keep_plans))
    return lives


@dataclass(frozen=True, slots=True)
class StagedScenario:
    """A scenario placed in time: its home's life and when the incident happens."""

    scenario: Scenario
    life: HomeLife
    at: float
    measure_from: float

    @property
    def observe_until(self) -> float:
        return self.at + self.scenario.observe


def stage(
    scenario: Scenario,
    day: int,
    seed: int,
    config: LifeConfig | None = None,
    topics: Topics | None = None,
) -> StagedScenario:
    """The scenario's home lives normally until ``day`` (0-based), then the incident."""
    config = config or LifeConfig()
    midnight = config.start + day * DAY_S
    at = midnight + minutes(scenario.at) * 60
    reference = scenario.measure_from or scenario.at
    measure_from = midnight + minutes(reference) * 60
    home = SimulatedHome(scenario.home_id, topics=topics or Topics())
    life = HomeLife(home, profile(scenario.profile), seed, config, scenario.script(at))
    return StagedScenario(scenario, life, at, measure_from)


def merge(
    lives: Sequence[HomeLife], until: float | Iterable[float], since: float = -math.inf
) -> Iterator[Emission]:
    """All homes' emissions in delivery-time order, each home stopping at its own end."""
    ends = [until] * len(lives) if isinstance(until, int | float) else list(until)
    streams = [life.emissions(end, since) for life, end in zip(lives, ends, strict=True)]
    return heapq.merge(*streams, key=attrgetter("at"))


def run_stream(
    lives: Sequence[HomeLife],
    until: float | Iterable[float],
    faults: FaultPlan | None = None,
    seed: int = 0,
    since: float = -math.inf,
) -> Iterator[Emission]:
    """The stream of a run with its faults applied (skewed clocks, duplicates, …)."""
    faults = faults or FaultPlan()
    rng = random.Random(stable_seed(seed, "faults"))
    skew_clocks((life.home for life in lives), faults, rng)
    return inject(merge(lives, until, since), faults, rng)

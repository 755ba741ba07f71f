"""The seeded plan of a chaos run: which homes, which triggers, which faults, and when.

Pure and deterministic: the same (minutes, seed) always gives the same plan, so a run that
found a violation can be replayed exactly, and the expectations (which alerts MUST exist,
with which evidence) come from the plan, never from what the system happened to do.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace
from enum import StrEnum

from eldercare.models import AlertKind, EventType
from simulator.layout import PENDANT, SMOKE, WALL_BUTTON

SERVICES = ("gateway", "detector", "alerting", "dashboard")
SEQ_JUMP = 2**40  # a device numbering in microseconds after a quiet spell (issue 19 #1)
FLOOD_DEVICE = "pir-living-room"
NOISE_DEVICE = "pir-kitchen"
MARGIN_S = 8.0  # no fault in the first and last seconds: start-up and the final settle


class FaultKind(StrEnum):
    KILL_ONE = "kill_one"  # SIGKILL one service, restart it
    KILL_TWO = "kill_two"  # SIGKILL two services at once, restart both
    BROKER_RESTART = "broker_restart"
    DB_CUT = "db_cut"  # the PostgreSQL proxy refuses and drops every connection
    TIMESERIES_CUT = "timeseries_cut"  # victoria-metrics unreachable, stopped and restarted
    GARBAGE = "garbage"  # undecodable payloads on a registered device's topic
    DUPLICATES = "duplicates"  # an earlier trigger's exact bytes again
    REORDER = "reorder"  # two presses published newest first
    CLOCK_SKEW = "clock_skew"  # device time an hour ahead
    SEQ_JUMP = "seq_jump"  # a press whose seq jumped by 2**40
    FLOOD = "flood"  # one device publishes as fast as it can; a press elsewhere meanwhile
    POISON = "poison"  # an unreadable alert message: alerting must quarantine it, not drop it


#: Faults that interrupt a process or a server: a trigger meanwhile may reach the wall late.
OUTAGES = frozenset(
    {
        FaultKind.KILL_ONE,
        FaultKind.KILL_TWO,
        FaultKind.BROKER_RESTART,
        FaultKind.DB_CUT,
    }
)


@dataclass(frozen=True, slots=True)
class Fault:
    at_s: float
    kind: FaultKind
    targets: tuple[str, ...] = ()
    duration_s: float = 0.0
    count: int = 0
    trigger_ids: tuple[int, ...] = ()  # triggers this fault publishes or repeats

    def describe(self) -> str:
        parts = [f"t+{self.at_s:6.1f}s", self.kind.value]
        if self.targets:
            parts.append(",".join(self.targets))
        if self.duration_s:
            parts.append(f"for {self.duration_s:.1f}s")
        if self.count:
            parts.append(f"x{self.count}")
        if self.trigger_ids:
            parts.append("triggers " + ",".join(map(str, self.trigger_ids)))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Trigger:
    """One device message that must end up as evidence of exactly one alert."""

    id: int
    at_s: float
    home: str
    device: str
    event: EventType
    kind: AlertKind
    seq: int
    life_safety: bool = True


@dataclass(frozen=True)
class Plan:
    seed: int
    minutes: float
    homes: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    faults: tuple[Fault, ...]
    wake_home: str  # must raise exactly one no_wake_up (quiet in bed, wake-by passed)
    noise_home: str  # receives garbage, skewed and reordered traffic; no alert expected
    flood_home: str
    quarantine_expected: int = 0  # payloads on the noise home the gateway must quarantine
    dead_letters_expected: int = 0

    @property
    def duration_s(self) -> float:
        return self.minutes * 60.0

    def demanded(self) -> dict[tuple[str, AlertKind], list[Trigger]]:
        """(home, kind) → the triggers its one alert must carry, each exactly once."""
        alerts: dict[tuple[str, AlertKind], list[Trigger]] = defaultdict(list)
        for trigger in self.triggers:
            alerts[(trigger.home, trigger.kind)].append(trigger)
        return dict(alerts)


def fault_count(minutes: float) -> int:
    """Every kind at least once, and about two more faults per minute after that."""
    return max(len(FaultKind), round(2 * minutes + 8))


class _Builder:
    def __init__(self, minutes: float, seed: int) -> None:
        self.random = random.Random(seed)
        self.minutes, self.seed = minutes, seed
        self.duration = minutes * 60.0
        count = 4 + int(minutes // 3)
        self.homes = tuple(f"h-{n:04d}" for n in range(1, count + 3))
        self.scenario_homes = self.homes[:count]
        self.noise_home, self.flood_home = self.homes[count], self.homes[count + 1]
        self.wake_home = self.scenario_homes[-1]  # stays in bed all run: nothing else there
        self.triggers: list[Trigger] = []
        self._seq: dict[tuple[str, str], int] = {}

    def next_seq(self, home: str, device: str, jump: int = 1) -> int:
        seq = self._seq.get((home, device), 1000 + self.seed % 1000) + jump
        self._seq[(home, device)] = seq
        return seq

    def trigger(self, at_s: float, home: str, event: EventType, *, jump: int = 1) -> Trigger:
        device, kind = {
            EventType.CALL_BUTTON: (WALL_BUTTON, AlertKind.CALL_BUTTON),
            EventType.FALL_SUSPECTED: (PENDANT, AlertKind.FALL),
            EventType.SMOKE: (SMOKE, AlertKind.SMOKE),
        }[event]
        made = Trigger(
            len(self.triggers), at_s, home, device, event, kind, self.next_seq(home, device, jump)
        )
        self.triggers.append(made)
        return made

    def active_home(self) -> str:
        return self.random.choice(self.scenario_homes[:-1])

    def scenarios(self) -> None:
        """Presses all through the run; one fall and one smoke alarm in a few homes."""
        for _ in range(max(6, round(4 * self.minutes))):
            self.trigger(self._time(), self.active_home(), EventType.CALL_BUTTON)
        homes = list(self.scenario_homes[:-1])
        self.random.shuffle(homes)
        spread = 1 + int(self.minutes // 5)
        for home in homes[:spread]:
            self.trigger(self._time(), home, EventType.FALL_SUSPECTED)
        for home in homes[-spread:]:
            self.trigger(self._time(), home, EventType.SMOKE)

    def _time(self) -> float:
        return round(self.random.uniform(MARGIN_S / 2, self.duration - MARGIN_S), 1)

    def fault(self, at_s: float, kind: FaultKind) -> Fault:
        r = self.random
        if kind in OUTAGES:
            # a press while it is down: what must survive the outage
            press = self.trigger(at_s + 0.3, self.active_home(), EventType.CALL_BUTTON)
            return replace(self._outage(at_s, kind), trigger_ids=(press.id,))
        if kind is FaultKind.TIMESERIES_CUT:
            return Fault(at_s, kind, ("victoria-metrics",), round(r.uniform(3.0, 8.0), 1))
        if kind in (FaultKind.GARBAGE, FaultKind.CLOCK_SKEW):
            return Fault(at_s, kind, (self.noise_home,), count=r.randint(2, 6))
        if kind is FaultKind.POISON:
            return Fault(at_s, kind, (self.noise_home,), count=1)
        if kind is FaultKind.REORDER:
            home = self.active_home()
            first = self.trigger(at_s + 0.05, home, EventType.CALL_BUTTON)
            second = self.trigger(at_s, home, EventType.CALL_BUTTON)  # newer seq, sent first
            return Fault(at_s, kind, (home,), trigger_ids=(second.id, first.id))
        if kind is FaultKind.SEQ_JUMP:
            home = self.active_home()
            jumped = self.trigger(at_s, home, EventType.CALL_BUTTON, jump=SEQ_JUMP)
            return Fault(at_s, kind, (home,), trigger_ids=(jumped.id,))
        if kind is FaultKind.FLOOD:
            press = self.trigger(at_s + 1.0, self.active_home(), EventType.CALL_BUTTON)
            count = 2000 + 400 * int(self.minutes // 10)
            return Fault(at_s, kind, (self.flood_home,), count=count, trigger_ids=(press.id,))
        assert kind is FaultKind.DUPLICATES
        earlier = [t for t in self.triggers if t.at_s < at_s - 1.0]
        repeated = (
            r.choice(earlier)
            if earlier
            else self.trigger(at_s - 0.5, self.active_home(), EventType.CALL_BUTTON)
        )
        return Fault(at_s, kind, (repeated.home,), count=2, trigger_ids=(repeated.id,))

    def _outage(self, at_s: float, kind: FaultKind) -> Fault:
        r = self.random
        if kind is FaultKind.KILL_ONE:
            return Fault(at_s, kind, (r.choice(SERVICES),), round(r.uniform(0.5, 3.0), 1))
        if kind is FaultKind.KILL_TWO:
            return Fault(at_s, kind, tuple(r.sample(SERVICES, 2)), round(r.uniform(0.5, 3.0), 1))
        if kind is FaultKind.BROKER_RESTART:
            return Fault(at_s, kind, ("mosquitto",), round(r.uniform(1.0, 3.0), 1))
        return Fault(at_s, kind, ("postgresql",), round(r.uniform(3.0, 8.0), 1))

    def faults(self) -> list[Fault]:
        count = fault_count(self.minutes)
        kinds = list(FaultKind)
        self.random.shuffle(kinds)
        kinds += [self.random.choice(list(FaultKind)) for _ in range(count - len(kinds))]
        span = self.duration - 2 * MARGIN_S
        slot = span / count
        times = [
            round(MARGIN_S + i * slot + self.random.uniform(0, slot * 0.3), 1) for i in range(count)
        ]
        return [self.fault(at, kind) for at, kind in zip(times, kinds, strict=True)]


def build_plan(minutes: float, seed: int) -> Plan:
    """The whole run, decided up front from the seed."""
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    builder = _Builder(minutes, seed)
    builder.scenarios()
    faults = builder.faults()
    noisy = {FaultKind.GARBAGE, FaultKind.CLOCK_SKEW, FaultKind.POISON}
    return Plan(
        seed=seed,
        minutes=minutes,
        homes=builder.homes,
        triggers=tuple(sorted(builder.triggers, key=lambda t: (t.at_s, t.id))),
        faults=tuple(faults),
        wake_home=builder.wake_home,
        noise_home=builder.noise_home,
        flood_home=builder.flood_home,
        quarantine_expected=sum(f.count for f in faults if f.kind in noisy),
        # Bad input is quarantined; a dead letter means a handler failed on a message for a
        # reason no retry cures, and nothing injected here should cause that.
        dead_letters_expected=0,
    )

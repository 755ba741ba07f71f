"""What must hold after a chaos run: pure functions over what the run collected.

Each check takes the plan (what the scenarios demand) and the records read back at the end
(the database, the receiver's log, the wall's stream, the quarantine topic, the servers'
counters) and returns violations; nothing here talks to a process, so each rule is unit
tested on hand-made records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chaos.processes import Crash
from chaos.receiver import Delivery
from chaos.schedule import Plan, Trigger
from eldercare.db.models import NotificationPurpose, TimerStatus
from eldercare.models import AlertKind

WALL_LIMIT_S = 5.0
#: Alerts a run may raise beyond the scenarios: killing services and stopping the broker
#: legitimately raises system and device-health alerts.
TOLERATED_KINDS = frozenset(
    {AlertKind.SYSTEM, AlertKind.DEVICE_OFFLINE, AlertKind.HOME_OFFLINE, AlertKind.BATTERY_LOW}
)
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    detail: str
    alert_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"invariant": self.invariant, "alert_id": self.alert_id, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: str
    home: str
    kind: str
    status: str
    trigger_count: int
    evidence: tuple[tuple[str, int], ...]  # (device, seq)


@dataclass(frozen=True, slots=True)
class StoredTimer:
    alert_id: str
    tier: int
    due_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class StoredNotification:
    alert_id: str
    tier: int
    recipient: str
    purpose: str
    key: str
    status: str


@dataclass(frozen=True, slots=True)
class Sighting:
    """An alert frame on the wall's SSE stream."""

    home: str
    kind: str
    alert_id: str
    at: float  # time.monotonic()


@dataclass
class Observations:
    alerts: list[StoredAlert] = field(default_factory=list)
    timers: list[StoredTimer] = field(default_factory=list)
    notifications: list[StoredNotification] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)
    published: dict[int, float] = field(default_factory=dict)  # trigger id → monotonic
    outages: list[tuple[float, float]] = field(default_factory=list)  # monotonic windows
    quarantined: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (home, reason)
    dead_letters: int | None = None  # None: no dead-letter store found at all
    healthy: dict[str, bool] = field(default_factory=dict)
    crashes: list[Crash] = field(default_factory=list)
    series_accepted: int = 0
    series_held: int = 0
    series_spooled_left: int = 0
    end_sim: datetime | None = None
    due_grace: timedelta = timedelta(minutes=2)
    fall_confirm_wall_s: float = 0.0


def _published_demands(plan: Plan, seen: Observations) -> dict[tuple[str, str], list[Trigger]]:
    demands = {
        (home, kind.value): [t for t in triggers if t.id in seen.published]
        for (home, kind), triggers in plan.demanded().items()
    }
    return {key: triggers for key, triggers in demands.items() if triggers}


def unpublished(plan: Plan, seen: Observations) -> list[Violation]:
    """The harness could not publish a trigger (broker down past every retry): say so."""
    return [
        Violation("harness_published", f"trigger {t.id} ({t.home} {t.event}) never published")
        for t in plan.triggers
        if t.id not in seen.published
    ]


def demanded_alerts(plan: Plan, seen: Observations, wake_expected: bool) -> list[Violation]:
    """Every demanded alert exists exactly once, carrying each of its triggers exactly once."""
    by_key: dict[tuple[str, str], list[StoredAlert]] = defaultdict(list)
    for alert in seen.alerts:
        by_key[(alert.home, alert.kind)].append(alert)
    violations: list[Violation] = []
    demands: dict[tuple[str, str], list[Trigger] | None] = dict(_published_demands(plan, seen))
    if wake_expected:
        demands[(plan.wake_home, AlertKind.NO_WAKE_UP.value)] = None
    for (home, kind), triggers in sorted(demands.items()):
        found = by_key.get((home, kind), [])
        if len(found) != 1:
            ids = ",".join(a.id for a in found) or "none"
            violations.append(
                Violation(
                    "alert_exactly_once",
                    f"{home} {kind}: {len(found)} alerts ({ids})",
                    found[0].id if found else None,
                )
            )
            continue
        if triggers is not None:
            violations.extend(_triggers_once(found[0], triggers))
    return violations


def _triggers_once(alert: StoredAlert, triggers: list[Trigger]) -> list[Violation]:
    wanted = Counter((t.device, t.seq) for t in triggers)
    held = Counter(alert.evidence)
    problems = []
    for item in sorted(set(wanted) | set(held)):
        if held[item] != wanted[item]:
            problems.append(f"{item[0]}#{item[1]} held {held[item]}x, sent {wanted[item]}x")
    if alert.trigger_count != len(triggers):
        problems.append(f"trigger_count {alert.trigger_count} for {len(triggers)} triggers")
    detail = f"{alert.home} {alert.kind}: " + "; ".join(problems)
    return [Violation("trigger_once", detail, alert.id)] if problems else []


def forbidden_alerts(plan: Plan, seen: Observations, wake_expected: bool) -> list[Violation]:
    allowed = {(home, kind.value) for home, kind in plan.demanded()}
    if wake_expected:
        allowed.add((plan.wake_home, AlertKind.NO_WAKE_UP.value))
    tolerated = {kind.value for kind in TOLERATED_KINDS}
    return [
        Violation("forbidden_alert", f"{a.home} {a.kind} raised by no scenario", a.id)
        for a in seen.alerts
        if (a.home, a.kind) not in allowed and a.kind not in tolerated
    ]


def notifications(plan: Plan, seen: Observations) -> list[Violation]:
    """Each demanded alert got its first notification and every tier that was due, delivered
    to the receiver; no (alert, tier, recipient) was decided twice."""
    assert seen.end_sim is not None
    demanded = {(home, kind.value) for home, kind in plan.demanded()}
    demanded.add((plan.wake_home, AlertKind.NO_WAKE_UP.value))
    alert_ids = {a.id for a in seen.alerts if (a.home, a.kind) in demanded}
    delivered = {d.key for d in seen.deliveries}
    sent: dict[tuple[str, int], list[StoredNotification]] = defaultdict(list)
    decided = Counter((n.alert_id, n.tier, n.recipient, n.purpose) for n in seen.notifications)
    for note in seen.notifications:
        if note.purpose == NotificationPurpose.ALERT:
            sent[(note.alert_id, note.tier)].append(note)
    violations = [
        Violation("tier_notified_twice", f"tier {tier} to {who} ({purpose}) decided {n}x", alert)
        for (alert, tier, who, purpose), n in decided.items()
        if n > 1
    ]
    for timer in seen.timers:
        if timer.alert_id not in alert_ids or timer.due_at > seen.end_sim - seen.due_grace:
            continue
        name = "first_notification" if timer.tier == 0 else "tier_notified"
        notes = sent.get((timer.alert_id, timer.tier), [])
        missing = [n.key for n in notes if n.key not in delivered]
        if timer.status != TimerStatus.FIRED or not notes or missing:
            detail = (
                f"tier {timer.tier} due {timer.due_at:%H:%M:%S} is {timer.status}; "
                f"{len(notes)} notifications, undelivered {missing[:3]}"
            )
            violations.append(Violation(name, detail, timer.alert_id))
    untimed = alert_ids - {t.alert_id for t in seen.timers}
    violations += [Violation("first_notification", "no escalation timers", a) for a in untimed]
    return violations


def _excused(at: float, windows: Iterable[tuple[float, float]], limit: float) -> bool:
    return any(start <= at + limit and at <= end for start, end in windows)


def wall_latency(plan: Plan, seen: Observations) -> list[Violation]:
    """Life-safety alerts reached the wall within 5 s, floods included; a trigger sent while
    a service, the broker or the database was down is excused from the clock (not from
    arriving: a missing frame is always a violation)."""
    first_seen: dict[tuple[str, str], Sighting] = {}
    for sighting in sorted(seen.sightings, key=lambda s: s.at):
        first_seen.setdefault((sighting.home, sighting.kind), sighting)
    violations = []
    for (home, kind), triggers in sorted(_published_demands(plan, seen).items()):
        sent = min(seen.published[t.id] for t in triggers)
        limit = WALL_LIMIT_S + (seen.fall_confirm_wall_s if kind == AlertKind.FALL else 0.0)
        sighting = first_seen.get((home, kind))
        if sighting is None:
            violations.append(Violation("wall_reached", f"{home} {kind} never on the wall"))
            continue
        late = sighting.at - sent
        if late > limit and not _excused(sent, seen.outages, limit):
            violations.append(
                Violation("wall_within_5s", f"{home} {kind} after {late:.1f} s", sighting.alert_id)
            )
    return violations


def services(seen: Observations) -> list[Violation]:
    violations = [
        Violation("service_crashed", f"{c.service} exited with {c.returncode} at t+{c.at_s}s")
        for c in seen.crashes
    ]
    violations += [
        Violation("service_healthy", f"{name} not healthy at the end")
        for name, ok in sorted(seen.healthy.items())
        if not ok
    ]
    return violations


def quarantine(plan: Plan, seen: Observations, flooded: bool) -> list[Violation]:
    noise = sum(
        len(keys) for (home, _), keys in seen.quarantined.items() if home == plan.noise_home
    )
    violations = []
    if noise != plan.quarantine_expected:
        violations.append(
            Violation(
                "quarantine_count",
                f"{plan.noise_home}: {noise} quarantined, {plan.quarantine_expected} injected",
            )
        )
    limited = len(seen.quarantined.get((plan.flood_home, RATE_LIMITED), set()))
    if flooded and limited == 0:
        violations.append(
            Violation("rate_limit_quarantine", f"{plan.flood_home} flooded, 0 rate_limited")
        )
    return violations


def dead_letters(plan: Plan, seen: Observations) -> list[Violation]:
    if seen.dead_letters == plan.dead_letters_expected:
        return []
    found = "no dead-letter store" if seen.dead_letters is None else f"{seen.dead_letters}"
    return [
        Violation(
            "dead_letter_count", f"{found} dead letters, {plan.dead_letters_expected} injected"
        )
    ]


def time_series(seen: Observations) -> list[Violation]:
    violations = []
    if seen.series_accepted != seen.series_held:
        violations.append(
            Violation(
                "timeseries_points",
                f"server accepted {seen.series_accepted} samples, holds {seen.series_held}",
            )
        )
    if seen.series_spooled_left:
        violations.append(
            Violation("timeseries_spool", f"{seen.series_spooled_left} bytes never replayed")
        )
    return violations


def check_all(
    plan: Plan, seen: Observations, *, wake_expected: bool, flooded: bool
) -> list[Violation]:
    return [
        *unpublished(plan, seen),
        *demanded_alerts(plan, seen, wake_expected),
        *forbidden_alerts(plan, seen, wake_expected),
        *notifications(plan, seen),
        *wall_latency(plan, seen),
        *services(seen),
        *quarantine(plan, seen, flooded),
        *dead_letters(plan, seen),
        *time_series(seen),
    ]

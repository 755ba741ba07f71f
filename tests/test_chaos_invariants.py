"""The chaos harness's plan and invariants, on hand-made records (no process, no broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chaos.invariants import (
    Observations,
    Sighting,
    StoredAlert,
    StoredNotification,
    StoredTimer,
    check_all,
    dead_letters,
    demanded_alerts,
    forbidden_alerts,
    notifications,
    quarantine,
    wall_latency,
)
from chaos.receiver import Delivery
from chaos.schedule import SEQ_JUMP, FaultKind, build_plan, fault_count
from chaos.world import wake_by_for

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PLAN = build_plan(2, 11)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    assert build_plan(2, 11) == PLAN
    assert build_plan(2, 12).faults != PLAN.faults


def test_every_fault_kind_is_planned_and_the_count_grows_with_minutes() -> None:
    assert {f.kind for f in PLAN.faults} == set(FaultKind)
    long = build_plan(30, 11)
    assert len(long.faults) == fault_count(30) >= 50
    assert all(0 < f.at_s < long.duration_s for f in long.faults)


def test_fault_triggers_are_demanded_a_jumped_seq_and_a_reordered_pair_included() -> None:
    demanded = [t for triggers in PLAN.demanded().values() for t in triggers]
    [jump] = [f for f in PLAN.faults if f.kind is FaultKind.SEQ_JUMP]
    jumped = next(t for t in demanded if t.id == jump.trigger_ids[0])
    assert jumped.seq > SEQ_JUMP
    [reorder] = [f for f in PLAN.faults if f.kind is FaultKind.REORDER]
    first, second = (next(t for t in demanded if t.id == i) for i in reorder.trigger_ids)
    assert first.at_s < second.at_s and first.seq > second.seq


def perfect(plan=PLAN) -> Observations:  # type: ignore[no-untyped-def]
    """Records of a run in which everything went right."""
    seen = Observations(end_sim=NOW + timedelta(minutes=30), due_grace=timedelta(minutes=1))
    for index, ((home, kind), triggers) in enumerate(sorted(plan.demanded().items())):
        alert_id = f"A{index}"
        evidence = tuple((t.device, t.seq) for t in triggers)
        seen.alerts.append(
            StoredAlert(alert_id, home, kind.value, "escalated", len(triggers), evidence)
        )
        for trigger in triggers:
            seen.published[trigger.id] = 100.0 + trigger.at_s
        first = min(seen.published[t.id] for t in triggers)
        seen.sightings.append(Sighting(home, kind.value, alert_id, first + 0.5))
        seen.timers.append(StoredTimer(alert_id, 0, NOW, "fired"))
        seen.timers.append(StoredTimer(alert_id, 1, NOW + timedelta(hours=1), "pending"))
        key = f"{alert_id}.t0.staff:duty"
        seen.notifications.append(
            StoredNotification(alert_id, 0, "staff:duty", "alert", key, "sent")
        )
        seen.deliveries.append(Delivery("/inbox/station", key, first + 1))
    seen.quarantined = {
        (plan.noise_home, "json"): {str(i) for i in range(plan.quarantine_expected)},
        (plan.flood_home, "rate_limited"): {"x"},
    }
    seen.dead_letters = plan.dead_letters_expected
    seen.healthy = {"gateway": True, "dashboard": True}
    return seen


def test_a_perfect_run_has_no_violation() -> None:
    assert check_all(PLAN, perfect(), wake_expected=False, flooded=True) == []


def test_a_missing_or_doubled_alert_names_the_invariant_and_the_alert() -> None:
    seen = perfect()
    lost = seen.alerts.pop(0)
    doubled = seen.alerts[0]
    seen.alerts.append(StoredAlert("B", doubled.home, doubled.kind, "open", 1, ()))
    found = demanded_alerts(PLAN, seen, wake_expected=False)
    assert [v.invariant for v in found] == ["alert_exactly_once"] * 2
    assert f"{lost.home} {lost.kind}: 0 alerts" in found[0].detail or found[1].detail


def test_a_trigger_attached_twice_is_a_violation() -> None:
    seen = perfect()
    alert = seen.alerts[0]
    seen.alerts[0] = StoredAlert(
        alert.id,
        alert.home,
        alert.kind,
        alert.status,
        alert.trigger_count + 1,
        alert.evidence + alert.evidence[:1],
    )
    [violation] = demanded_alerts(PLAN, seen, wake_expected=False)
    assert violation.invariant == "trigger_once" and violation.alert_id == alert.id
    assert "held 2x, sent 1x" in violation.detail


def test_an_unplanned_alert_is_forbidden_but_system_alerts_are_tolerated() -> None:
    seen = perfect()
    seen.alerts.append(StoredAlert("X", PLAN.noise_home, "inactivity", "open", 1, ()))
    seen.alerts.append(StoredAlert("S", "_system", "system", "open", 1, ()))
    assert [v.alert_id for v in forbidden_alerts(PLAN, seen, wake_expected=False)] == ["X"]


def test_a_due_tier_not_delivered_and_a_tier_decided_twice_are_violations() -> None:
    seen = perfect()
    seen.deliveries.pop(0)
    first = seen.notifications[1]
    seen.notifications.append(
        StoredNotification(first.alert_id, 0, first.recipient, "alert", "other", "sent")
    )
    seen.deliveries.append(Delivery("/inbox/station", "other", 0.0))
    names = sorted(v.invariant for v in notifications(PLAN, seen))
    assert names == ["first_notification", "tier_notified_twice"]


def test_a_late_wall_frame_is_a_violation_unless_an_outage_excuses_it() -> None:
    seen = perfect()
    sighting = seen.sightings[0]
    seen.sightings[0] = Sighting(sighting.home, sighting.kind, sighting.alert_id, sighting.at + 9)
    [late] = wall_latency(PLAN, seen)
    assert late.invariant == "wall_within_5s"
    seen.outages = [(sighting.at - 1, sighting.at + 2)]
    assert wall_latency(PLAN, seen) == []
    seen.sightings.pop(0)
    assert [v.invariant for v in wall_latency(PLAN, seen)] == ["wall_reached"]


def test_quarantine_and_dead_letter_counts_must_match_what_was_injected() -> None:
    seen = perfect()
    seen.quarantined[(PLAN.noise_home, "json")].pop()
    del seen.quarantined[(PLAN.flood_home, "rate_limited")]
    names = [v.invariant for v in quarantine(PLAN, seen, flooded=True)]
    assert names == ["quarantine_count", "rate_limit_quarantine"]
    seen.dead_letters = None
    assert "no dead-letter store" in dead_letters(PLAN, seen)[0].detail


def test_wake_by_is_just_past_due_in_the_morning_and_absent_in_the_evening() -> None:
    from simulator.homes import CHINA

    assert wake_by_for(datetime(2026, 11, 25, 4, 30, tzinfo=CHINA)) == "03:40"
    assert wake_by_for(datetime(2026, 11, 25, 0, 20, tzinfo=CHINA)) is None
    assert wake_by_for(datetime(2026, 11, 25, 17, 0, tzinfo=CHINA)) is None

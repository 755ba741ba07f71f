"""The run's table: the seed, every fault as applied, every invariant with its violations.

Printed to stdout (or as JSON with ``--json``); a violation always comes with the seed and
the fault schedule, so whoever reads it can replay the exact run.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

INVARIANTS = (
    "harness_published",
    "alert_exactly_once",
    "trigger_once",
    "forbidden_alert",
    "first_notification",
    "tier_notified",
    "tier_notified_twice",
    "wall_reached",
    "wall_within_5s",
    "service_crashed",
    "service_healthy",
    "quarantine_count",
    "rate_limit_quarantine",
    "dead_letter_count",
    "timeseries_points",
    "timeseries_spool",
)


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)


def as_table(result: dict[str, Any]) -> str:
    violations = result["violations"]
    lines = [
        f"chaos run: seed {result['seed']}, {result['minutes']:g} min, clock x"
        f"{result['clock_speed']:g}, {result['homes']} homes, "
        f"{result['published']}/{result['triggers']} triggers published, "
        f"no-wake-up: {result['no_wake_up']}",
        "",
        f"faults ({len(result['faults'])}):",
        *(f"  {fault['fault']}" for fault in result["faults"]),
        "",
        f"{'invariant':<24} violations",
    ]
    counts = Counter(v["invariant"] for v in violations)
    lines += [f"  {name:<22} {counts.get(name, 0)}" for name in INVARIANTS]
    lines += ["", f"violations: {len(violations)} (seed {result['seed']})"]
    lines += [
        f"  {v['invariant']}: {v['detail']}"
        + (f" [alert {v['alert_id']}]" if v["alert_id"] else "")
        for v in violations
    ]
    return "\n".join(lines)

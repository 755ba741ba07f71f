"""The bench's result as a terminal table or JSON."""

from __future__ import annotations

import json
from typing import Any


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)


def as_table(result: dict[str, Any]) -> str:
    counts = result["counts"]
    rows = [
        ("machine", result["machine"]),
        ("date", result["date"]),
        ("homes / seconds", f"{result['homes']} / {result['seconds']:g}"),
        ("0 warm-up", _warm_up(result["warm_up"])),
        *(
            [
                (
                    "  gateway restarted",
                    f"online again in {result['gateway_restart_s']:g} s, retained statuses "
                    f"read back in {result['gateway_statuses_read_s']:g} s: "
                    f"{result['statuses_restored']}",
                )
            ]
            if "gateway_restart_s" in result
            else []
        ),
        ("1 raw broker", f"{result['raw_per_s']} msg/s ({result['raw_client']})"),
        ("2 pipeline sustained", f"{result['pipeline_per_s']} msg/s, ratio {result['ratio']}"),
        (
            "  counted",
            f"published {counts['published']}, gateway accepted {counts['gateway_accepted']}, "
            f"detector events {counts['event_received']}/{counts['event_published']}, "
            f"telemetry {counts['telemetry_received']}/{counts['telemetry_published']} "
            f"(warm-up's {counts['warm_up_published']} included)",
        ),
        ("  lost", str(result["lost"])),
        ("  CPU ms / message", "  ".join(f"{k} {v}" for k, v in result["cpu_ms_per_msg"].items())),
        ("  device statuses / message", str(result["statuses_per_msg"])),
        (
            "3 press -> wall (ms)",
            f"p50 {result['p50']}  p95 {result['p95']}  p99 {result['p99']}  "
            f"max {result['max_ms']}  ({result['presses']} presses, "
            f"{result['presses_missed']} missed, background {result['background_per_s']:g}/s)",
        ),
        (
            "  loop held > 0.1 s / > 0.25 s",
            "  ".join(
                f"{name} {bounds['0.1']}/{bounds['0.25']}"
                for name, bounds in result["loop_stalls_in_press_phase"].items()
            ),
        ),
        (
            "  alerts raised",
            "  ".join(f"{kind} {n}" for kind, n in result["alerts_raised"].items()) or "none",
        ),
        ("4 RSS (MiB)", "  ".join(f"{k} {v}" for k, v in result["rss_mib"].items())),
        (
            "  detector state / home",
            "  ".join(
                f"{homes}: {heap} B heap, {result['checkpoint_bytes_per_home'][homes]} B checkpoint"
                for homes, heap in result["state_bytes_per_home"].items()
            ),
        ),
    ]
    if result["crashed"]:
        rows.append(("CRASHED", ", ".join(result["crashed"])))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _warm_up(warm: dict[str, Any]) -> str:
    if not warm["enabled"]:
        return "off (--no-warm): a gateway's first minutes after a start"
    return (
        f"{warm['messages']} messages in {warm['seconds']:g} s ({warm['per_s']}/s), "
        f"{warm['statuses']} statuses, {'drained' if warm['drained'] else 'NOT drained'}"
    )

"""A detector killed while an impact waits: what its last save holds, and what that costs.

    python benchmarks/falls_kill_saves.py DATA_DIR [--rate HZ] [--json]

The pendants' samples are not checkpointed. ``FallRule`` keeps, while an impact waits for
its aftermath, what a cut would decide now, and asks for a save whenever that answer changes
(``_keep_provisional``). This replays every recording of DATA_DIR (SisFall format) through
the rule in one-second batches with the bundled model and reports:

- falls: for a kill right after the batch holding the impact (its SVM maximum), or one, two,
  three batches later, in how many recordings the last save would raise the fall (a
  suspicion opened, or a provisional one; before: only the suspicion, three batches on);
- activities: the saves asked for per hour (each one a whole-state write at many homes), and
  the recordings a kill at the worst moment would turn into a suspicion;
- the rule's CPU per hour of samples with and without the provisional decision.

The model was trained on SisFall-dev, so on SisFall-dev these are in-sample figures.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from benchmarks.falls_cut_streams import bundled, replay_parser
from detector.falls.rule import FallRule
from evaluation.falls.replay import downsample, telemetry_batches
from evaluation.falls.sisfall import find_trials, read_trial

KEY = ("h-0001", "pendant")
#: Kills after the batch holding the impact (its SVM maximum) and the ones after it.
AFTER_BATCHES = 4


def replay(samples: np.ndarray, rate_hz: float, rule: FallRule) -> tuple[list[bool], int, float]:
    """Play one recording; per batch, whether a kill right after it would leave a fall to
    raise (a suspicion, or a provisional one, in the last save); the provisional saves asked
    for; the rule's CPU seconds."""
    kept: list[bool] = []
    saves, cpu = 0, 0.0
    for telemetry in telemetry_batches(samples, rate_hz, datetime(2026, 1, 1, tzinfo=UTC)):
        before, opened = rule.urgent_saves, bool(rule.suspected)
        began = time.process_time()
        rule.on_telemetry(telemetry, telemetry.ts + timedelta(seconds=1))
        cpu += time.process_time() - began
        saves += rule.urgent_saves - before - (bool(rule.suspected) and not opened)
        kept.append(bool(rule.suspected) or KEY in rule.provisional)
    return kept, saves, cpu


def main() -> None:
    args = replay_parser(__doc__).parse_args()
    model, config = bundled()
    after_impact, after_impact_without = [0] * AFTER_BATCHES, [0] * AFTER_BATCHES
    falls = saves = alarmed = 0
    hours = cpu = cpu_without = 0.0
    for trial in find_trials(args.data):
        samples = downsample(read_trial(trial.path), args.rate)
        kept, asked, seconds = replay(samples, args.rate, FallRule(model, config))
        plain = FallRule(model, config)
        plain._keep_provisional = lambda *_: None  # type: ignore[method-assign]
        kept_without, _, seconds_without = replay(samples, args.rate, plain)
        if trial.is_fall:
            falls += 1
            impact = int(np.linalg.norm(samples, axis=1).argmax()) // round(args.rate)
            for after in range(AFTER_BATCHES):
                at = min(impact + after, len(kept) - 1)
                after_impact[after] += kept[at]
                after_impact_without[after] += kept_without[at]
            continue
        cpu_without += seconds_without
        saves, alarmed, cpu = saves + asked, alarmed + any(kept), cpu + seconds
        hours += len(samples) / args.rate / 3600
    report = {
        "rate_hz": args.rate,
        "falls": falls,
        "falls_raised_if_killed_after_impact_batch_plus": after_impact,
        "same_without_provisional": after_impact_without,
        "activity_hours": round(hours, 2),
        "activity_provisional_saves": saves,
        "activity_provisional_saves_per_hour": round(saves / hours, 2),
        "activities_a_kill_could_raise": alarmed,
        "rule_cpu_s_per_hour": round(cpu / hours, 3),
        "rule_cpu_s_per_hour_without": round(cpu_without / hours, 3),
    }
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()

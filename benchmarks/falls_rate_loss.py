"""Which features cost the falls a lower device rate loses (issue 15, fallcal).

    python benchmarks/falls_rate_loss.py DATA_DIR [--high 50] [--low 20] [--model M] [--json]

The bundled model finds 258 of MobiFall's 288 falls at 50 Hz and 194 at 20 Hz, while
SisFall-dev keeps nearly all of its falls at 20 Hz. Each fall recording is replayed at both
rates and its labelled window (the hardest candidate, as training picks it) scored; for the
falls the model alarms on at the high rate but not at the low one, each feature in turn is
given its high-rate value with the others left at the low rate's: a feature whose value
brings many of them back is where the rate costs the falls.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detector.falls.features import FEATURE_NAMES, WINDOW_FEATURES
from detector.falls.scoring import FallModel, Scorer, bundled_model
from eldercare.logs import configure_logging
from evaluation.falls.replay import Replay, replay


def hardest_windows(played: Replay) -> dict[str, np.ndarray]:
    """Per fall recording (by file name) the features of its hardest candidate."""
    return {
        run.trial.path.name: max(run.candidates, key=lambda c: c.features[0]).features
        for run in played.trials
        if run.trial.is_fall and run.candidates
    }


def run(data_dir: Path, scorer: Scorer, high_hz: float, low_hz: float) -> dict[str, Any]:
    """Counts at both rates and, per window feature, the lost falls its high-rate value
    brings back (``restored``) with the medians of the lost falls at each rate."""
    high, low = (hardest_windows(r) for r in replay(data_dir, [high_hz, low_hz]))
    names = sorted(set(high) & set(low))
    at_high = np.vstack([high[n] for n in names])
    at_low = np.vstack([low[n] for n in names])
    alarm_high = scorer.scores(at_high) >= scorer.threshold
    alarm_low = scorer.scores(at_low) >= scorer.threshold
    lost = alarm_high & ~alarm_low
    restored: dict[str, dict[str, float]] = {}
    for name in WINDOW_FEATURES:
        column = FEATURE_NAMES.index(name)
        mixed = at_low[lost].copy()
        mixed[:, column] = at_high[lost][:, column]
        restored[name] = {
            "restored": int((scorer.scores(mixed) >= scorer.threshold).sum()),
            "median_high": float(np.nanmedian(at_high[lost][:, column])) if lost.any() else 0.0,
            "median_low": float(np.nanmedian(at_low[lost][:, column])) if lost.any() else 0.0,
        }
    return {
        "falls": len(high.keys() | low.keys()),
        "with_candidate_high": len(high),
        "with_candidate_low": len(low),
        "alarmed_high": int(alarm_high.sum()),
        "alarmed_low": int(alarm_low.sum()),
        "lost_at_low": int(lost.sum()),
        "by_feature": restored,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--high", type=float, default=50.0, help="the rate that finds them (Hz)")
    parser.add_argument("--low", type=float, default=20.0, help="the rate that loses them (Hz)")
    parser.add_argument("--model", type=Path, help="a model file (default: the bundled one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging()
    scorer = FallModel.load(args.model) if args.model else bundled_model()
    if scorer is None:
        parser.error("no model: give --model")
    results = run(args.data_dir, scorer, args.high, args.low)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"falls with a candidate {results['with_candidate_high']} / {results['with_candidate_low']}"
        f" of {results['falls']}; hardest window alarms {results['alarmed_high']} at "
        f"{args.high:g} Hz, {results['alarmed_low']} at {args.low:g} Hz; "
        f"lost {results['lost_at_low']}"
    )
    for name, row in results["by_feature"].items():
        print(
            f"  {name:17} its {args.high:g} Hz value restores {row['restored']:4}  "
            f"(median {row['median_high']:.3f} -> {row['median_low']:.3f})"
        )


if __name__ == "__main__":
    main()

"""What quiet is normal in a home never seen: a population prior, shrunk into each home.

A home's first week says little, and one home's week says nothing about the next home. So the
package ships, per context (two-hour block × place of the last sign of life — ``out``, and
``bedroom``/``bed`` at night, are the states away and asleep), the limit that the model
learns in the homes of the development set (``quiet_prior.json``, built by ``eldercare eval
adl ... --write-prior``): each home's own learned limit at the end of its recording, and of
those the upper quartile (``QUANTILE``), with every group (real, simulated) weighing the same
and every home the same within its group. A home never seen is then covered where three in
four known homes are.

``ActivityModel.quiet_threshold_h`` weighs it against the home's own limit by shrinkage: the
prior is worth ``prior_quiets`` quiet periods of the home's own in that context (weight
``prior_quiets / (prior_quiets + quiet periods seen)``), so day 1 is the population's and a
context seen a few times is not a few days' peak alone. Before this, the cold
start was four hand-set numbers (10 h asleep or out, 3.5 h awake, …) blended away over 7 days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from detector.activity.sensors import PLACE_COUNT

PRIOR_FILE = Path(__file__).with_name("quiet_prior.json")
#: One column more than the places: the bathroom of a home that sees it only by instants
#: (a flush, a tap, a light switch). Quiet after those is mostly the resident gone on
#: unseen, hours of it; quiet after someone seen *in* the bathroom is a collapse by the
#: toilet within the hour. One population limit for both was wrong for one or the other.
BATH_INSTANT = PLACE_COUNT
COLUMNS = PLACE_COUNT + 1
#: Which of the known homes' limits a home never seen gets: the upper quartile.
QUANTILE = 0.75


@dataclass(frozen=True, eq=False)
class QuietPrior:
    """Per context (block × place, and ``BATH_INSTANT``): the population's limit in hours
    (NaN: no home knew it)."""

    limit: np.ndarray
    homes: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "about": "population limit (h) of quiet per context, block x place; "
                "null where no development home knew the context; see prior.py",
                "homes": list(self.homes),
                "limit": [
                    [None if np.isnan(v) else round(float(v), 2) for v in row] for row in self.limit
                ],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> QuietPrior:
        data = json.loads(text)
        limit = np.full((len(data["limit"]), COLUMNS), np.nan, dtype=np.float32)
        for block, row in enumerate(data["limit"]):  # older files: no BATH_INSTANT column
            limit[block, : len(row)] = [np.nan if v is None else v for v in row]
        return cls(limit, tuple(data.get("homes", ())))


@cache
def shipped_prior() -> QuietPrior:
    """The prior built from every development home (loaded once, shared by all homes)."""
    return QuietPrior.from_json(PRIOR_FILE.read_text())


@dataclass(frozen=True)
class HomeLimits:
    """One home's own learned limit per context (NaN where it has too little evidence), in
    the prior's ``COLUMNS``."""

    name: str
    group: str
    limit: np.ndarray


def combine(homes: Sequence[HomeLimits]) -> QuietPrior:
    """Per context, the weighted ``QUANTILE`` of the homes' limits (homes that know it)."""
    groups = sorted({home.group for home in homes})
    weights = np.array(
        [1.0 / len(groups) / sum(1 for h in homes if h.group == home.group) for home in homes]
    )
    stacked = np.stack([home.limit for home in homes])
    limit = np.full(stacked.shape[1:], np.nan, dtype=np.float32)
    for index in np.ndindex(limit.shape):
        values = stacked[(slice(None), *index)]
        known = ~np.isnan(values)
        if known.any():
            limit[index] = _weighted_quantile(values[known], weights[known], QUANTILE)
    return QuietPrior(limit, tuple(home.name for home in homes))


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, quantile: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, quantile)])

"""Inactivity in the lab: recorded and simulated homes replayed through the real inactivity
rule with simulated collapses, per-home and pooled figures, the population prior
(``eldercare eval adl``)."""

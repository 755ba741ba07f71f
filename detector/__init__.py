"""The brains: per-home decisions that turn normalised events into alerts."""

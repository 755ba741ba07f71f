"""DESIGN §8 and issue 18: the detector's state stays below 2 KiB a home.

Measured as the bench measures it (``benchmarks/state_size.py``: every rule fed a home's
morning, the Python heap they hold by tracemalloc), which counts allocations, not time, so
the figure is the same on every run of the same Python. It was 3.8 KB before the state was
packed (place columns in the model, packed device tables, seldom fields apart).
"""

from __future__ import annotations

import pytest

from benchmarks.state_size import state_size
from detector.packed import PackedInts

BUDGET = 2048


def test_the_detector_state_of_a_home_stays_within_the_budget() -> None:
    size = state_size(1000)
    assert size.heap_bytes_per_home < BUDGET, size


def test_packed_ints_keep_what_a_dict_would_and_refuse_what_does_not_fit() -> None:
    packed = PackedInts([("pir-a", 5)])
    packed["pir-b"] = 2**64 - 1
    packed["pir-a"] = 7
    assert list(packed.items()) == [("pir-a", 7), ("pir-b", 2**64 - 1)]
    assert packed.get("pir-c") is None and "pir-b" in packed and len(packed) == 2
    assert packed == {"pir-a": 7, "pir-b": 2**64 - 1}
    for value in (-1, 2**64):
        with pytest.raises(OverflowError):
            packed["pir-c"] = value
    assert "pir-c" not in packed

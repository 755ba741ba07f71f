"""The private victoria-metrics fixture (the server itself lives in ``chaos.victoria``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos.victoria import LocalVictoriaMetrics, Sample

__all__ = ["LocalVictoriaMetrics", "Sample", "victoria_server"]


@pytest.fixture(name="victoria")
def victoria_server() -> Iterator[LocalVictoriaMetrics]:
    """A running victoria-metrics, removed with its storage after the test."""
    with LocalVictoriaMetrics() as server:
        yield server

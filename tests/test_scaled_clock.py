"""The sped-up clock that lets a restarted subprocess agree on the time with its predecessor."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from eldercare.clock import RealClock, ScaledClock
from eldercare.settings import Environment, Settings


async def test_two_scaled_clocks_with_one_anchor_agree_and_run_fast() -> None:
    anchor = datetime.now(UTC) - timedelta(seconds=2)
    first, second = ScaledClock(anchor, 60), ScaledClock(anchor, 60)
    ahead = (first.now() - anchor).total_seconds()
    assert 119 <= ahead <= 130  # 2 wall seconds are two minutes
    assert abs((first.now() - second.now()).total_seconds()) < 1
    started = time.monotonic()
    await first.sleep(6)  # six clock seconds: a tenth of a wall second
    assert time.monotonic() - started < 0.5


def test_settings_choose_the_clock() -> None:
    assert isinstance(Settings().clock(), RealClock)
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    clock = Settings(clock_speed=30, clock_anchor=anchor).clock()
    assert isinstance(clock, ScaledClock) and clock.anchor == anchor and clock.speed == 30
    with pytest.raises(ValueError, match="not production"):
        Settings(
            environment=Environment.PRODUCTION,
            secret_key="x" * 32,
            database_url="postgresql+asyncpg://db/x",
            clock_speed=10,
        )

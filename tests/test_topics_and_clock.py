"""Topic helpers and the simulated clock: the two things every service leans on."""

from __future__ import annotations

import asyncio
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from paho.mqtt.client import topic_matches_sub

from eldercare.clock import SimulatedClock
from eldercare.topics import Channel, TopicError, Topics, shard_of

topics = Topics("eldercare/v1")


def test_device_topic_round_trip() -> None:
    topic = topics.device("h-0001", "btn-hall", Channel.EVENT)
    assert topic == "eldercare/v1/h-0001/btn-hall/event"
    parsed = topics.parse_device(topic)
    assert (parsed.home, parsed.device, parsed.channel) == ("h-0001", "btn-hall", Channel.EVENT)
    normalised = topics.normalised("h-0001", "btn-hall", Channel.EVENT)
    assert topics.parse_device(normalised) == parsed


@pytest.mark.parametrize(
    "topic",
    [
        "other/v1/h/d/event",
        "eldercare/v1/h/d",
        "eldercare/v1/h/d/e/event",
        "eldercare/v1/h/d/shout",
        "eldercare/v1/_x/d/event",
        "eldercare/v1/alerts/d/event",
    ],
)
def test_parse_refuses_foreign_topics(topic: str) -> None:
    with pytest.raises(TopicError):
        topics.parse_device(topic)


def test_alert_topics_and_filters_do_not_overlap_device_topics() -> None:
    assert topics.home_alerts("h-1") == "eldercare/v1/h-1/alerts"
    assert topics.alert_updates("01J") == "eldercare/v1/alerts/01J/updates"
    assert topics.is_internal(topics.normalised("h", "d", "event"))
    assert topics.is_internal(topics.service_status("eldercare-gateway"))
    assert not topics.is_internal(topics.device("h", "d", "event"))
    with pytest.raises(TopicError):
        topics.device("alerts", "d", "event")


async def test_simulated_clock_wakes_sleepers_in_due_order() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = SimulatedClock(start)
    woken: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in [("b", 120), ("a", 60), ("c", 3600)]]
    await clock.advance(90)
    assert woken == [("a", start + timedelta(seconds=60))]
    assert clock.now() == start + timedelta(seconds=90)
    await clock.advance_to(start + timedelta(days=1))
    assert [name for name, _ in woken] == ["a", "b", "c"]
    assert woken[2][1] == start + timedelta(hours=1)
    await asyncio.gather(*tasks)


async def test_simulated_clock_runs_a_periodic_timer_for_days_instantly() -> None:
    clock = SimulatedClock()
    ticks = 0

    async def every_minute() -> None:
        nonlocal ticks
        while True:
            await clock.sleep(60)
            ticks += 1

    task = asyncio.create_task(every_minute())
    await clock.advance(3 * 24 * 3600)
    task.cancel()
    assert ticks == 3 * 24 * 60


def test_simulated_clock_refuses_going_backwards() -> None:
    clock = SimulatedClock()
    with pytest.raises(ValueError):
        clock.set(clock.now() - timedelta(seconds=1))


def test_normalised_topics_carry_the_home_s_stable_shard() -> None:
    """The shard is CRC-32 of the home id (not ``hash()``, salted per process), so the gateway
    and every detector instance agree; a shard's filter matches its homes and no other."""
    assert shard_of("h-0042") == 7 and shard_of("h-0042", 4) == zlib.crc32(b"h-0042") % 4
    normalised = topics.normalised("h-0042", "pir", Channel.EVENT)
    assert normalised == "eldercare/v1/_normalised/07/h-0042/pir/event"
    assert topic_matches_sub(topics.normalised_filter(Channel.EVENT, 7), normalised)
    assert not topic_matches_sub(topics.normalised_filter(Channel.EVENT, 8), normalised)
    assert topic_matches_sub(topics.normalised_filter(Channel.EVENT), normalised)
    lane = topics.life_safety("h-0042", "btn")
    assert lane == "eldercare/v1/_lifesafety/07/h-0042/btn/event"
    assert topic_matches_sub(topics.life_safety_shard_filter(7), lane)
    assert not topic_matches_sub(topics.life_safety_shard_filter(6), lane)

"""Input stalls, judged on a simulated time line (seconds passed in): no broker, no sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiomqtt
import pytest

from alerting.stalls import (
    DETECTOR,
    GATEWAY,
    STALL_AFTER_BEATS,
    InputStalls,
    Verdict,
    input_feeds,
    watched_sessions,
)
from alerting.watch import ServiceWatch
from eldercare.bus import MqttConnection
from eldercare.clock import RealClock
from eldercare.models import ServiceHeartbeat
from eldercare.topics import Topics, shard_of
from tests.harness import make_settings, running

TOPICS = Topics()
RAW = TOPICS.device("h-0001", "hub", "event")
NORMALISED = TOPICS.normalised("h-0001", "hub", "event")
BEAT = 30.0


def watch() -> InputStalls:
    return InputStalls(input_feeds(TOPICS, [GATEWAY, DETECTOR, "eldercare-other"]))


def beats(stalls: InputStalls, service: str, handled: int, start: float, count: int) -> list:
    """``count`` heartbeats BEAT apart from ``start``, all with the same count."""
    return [stalls.heartbeat(service, handled, BEAT, start + n * BEAT) for n in range(count)]


def test_a_quiet_night_is_not_a_stall() -> None:
    stalls = watch()
    # eight hours of heartbeats, no home sends anything, nothing handled
    assert set(beats(stalls, GATEWAY, 7, 0, 8 * 120)) == {None}


def test_input_the_gateway_does_not_follow_is_a_stall_and_progress_ends_it() -> None:
    stalls = watch()
    stalls.heartbeat(GATEWAY, 100, BEAT, 0)
    stalls.saw_input(RAW, 10)
    verdicts = beats(stalls, GATEWAY, 100, 30, STALL_AFTER_BEATS + 1)
    # silent on the first four beats after the input (it may just be busy), then: stalled
    assert verdicts == [None] * STALL_AFTER_BEATS + [Verdict.STALLED]
    assert stalls.waiting_s(GATEWAY, 30 + STALL_AFTER_BEATS * BEAT) == 140
    assert stalls.heartbeat(GATEWAY, 101, BEAT, 200) is Verdict.PROGRESS
    assert stalls.heartbeat(GATEWAY, 101, BEAT, 400) is None  # nothing new has come in


def test_a_gateway_that_keeps_up_is_never_stalled() -> None:
    stalls = watch()
    stalls.heartbeat(GATEWAY, 0, BEAT, 0)
    for n in range(1, 100):
        stalls.saw_input(RAW, n * BEAT - 5)
        assert stalls.heartbeat(GATEWAY, n, BEAT, n * BEAT) is Verdict.PROGRESS


def test_each_service_is_judged_on_its_own_input() -> None:
    stalls = watch()
    for service in (GATEWAY, DETECTOR, "eldercare-other"):
        stalls.heartbeat(service, 5, BEAT, 0)
    stalls.saw_input(NORMALISED, 1)  # the gateway's output: the detector's input only
    late = 1 + (STALL_AFTER_BEATS + 1) * BEAT
    assert stalls.heartbeat(DETECTOR, 5, BEAT, late) is Verdict.STALLED
    assert stalls.heartbeat(GATEWAY, 5, BEAT, late) is None
    assert stalls.heartbeat("eldercare-other", 5, BEAT, late) is None  # input unknown


def test_a_restart_resets_the_count_and_counts_as_progress() -> None:
    stalls = watch()
    stalls.heartbeat(GATEWAY, 5000, BEAT, 0)
    stalls.saw_input(RAW, 1)
    assert stalls.heartbeat(GATEWAY, 0, BEAT, 1000) is Verdict.PROGRESS
    # input before the first heartbeat of a service is not held against it
    fresh = watch()
    fresh.saw_input(RAW, 0)
    assert set(beats(fresh, GATEWAY, 0, 1, 20)) == {None}


def test_replicas_watch_the_detector_per_shard_each_on_its_shard_s_input() -> None:
    topics = Topics(shard_count=4)
    ids = watched_sessions(topics, [GATEWAY, DETECTOR], replicas=True)
    assert ids == [GATEWAY, *(f"{DETECTOR}-shard-0{n}" for n in range(4))]
    assert watched_sessions(topics, [GATEWAY, DETECTOR], replicas=False) == [GATEWAY, DETECTOR]
    stalls = InputStalls(input_feeds(topics, ids))
    shard = f"{DETECTOR}-shard-02"
    homes = [f"h-{n:04d}" for n in range(50)]
    ours = next(h for h in homes if shard_of(h, 4) == 2)
    other = next(h for h in homes if shard_of(h, 4) != 2)
    stalls.heartbeat(shard, 5, 30.0, 0.0)
    stalls.saw_input(topics.normalised(other, "pir", "event"), 1.0)  # another shard's input
    assert stalls.heartbeat(shard, 5, 30.0, 1000.0) is None
    stalls.saw_input(topics.normalised(ours, "pir", "event"), 1001.0)
    late = 1001.0 + STALL_AFTER_BEATS * 30 + 1
    assert stalls.heartbeat(shard, 5, 30.0, late) is Verdict.STALLED


def test_the_witness_reads_a_feed_only_until_input_waits_then_again_after_progress() -> None:
    """Issue 18: reading every home's events in full was most of alerting's CPU at 10 000
    homes; one message after each progress says all there is to say."""
    changes: list[list[str]] = []
    stalls = InputStalls(input_feeds(TOPICS, [GATEWAY, DETECTOR]))
    stalls.on_change = lambda: changes.append(stalls.wanted)
    raw_filter, normalised_filter = (
        TOPICS.raw_device_filter("event"),
        TOPICS.normalised_filter("event"),
    )
    assert stalls.wanted == []  # no heartbeat yet: input would not count
    stalls.heartbeat(GATEWAY, 10, BEAT, 0)
    stalls.heartbeat(DETECTOR, 10, BEAT, 0)
    assert changes[-1] == sorted([raw_filter, normalised_filter])
    stalls.saw_input(RAW, 1)
    assert changes[-1] == [normalised_filter]
    stalls.saw_input(RAW, 2)  # still waiting: nothing new
    assert len(changes) == 3
    assert stalls.heartbeat(GATEWAY, 11, BEAT, BEAT) is Verdict.PROGRESS
    assert changes[-1] == sorted([raw_filter, normalised_filter])
    # what the witness no longer reads is still judged from the input it saw
    stalls.saw_input(NORMALISED, BEAT + 1)
    assert stalls.wanted == [raw_filter]
    late = BEAT + 1 + (STALL_AFTER_BEATS + 1) * BEAT
    assert stalls.heartbeat(DETECTOR, 10, BEAT, late) is Verdict.STALLED


@pytest.mark.integration
async def test_the_witness_session_follows_what_the_watch_wants(mosquitto, tmp_path) -> None:
    """The same on a real broker: subscribed after a heartbeat, unsubscribed once input waits
    (and what it saw is what the watch judges), subscribed again after progress."""
    settings = make_settings(mosquitto, tmp_path)
    topics = settings.topics
    watch = ServiceWatch(topics, RealClock(), None, [GATEWAY], lambda: None)  # type: ignore[arg-type]
    inputs = MqttConnection(settings, "witness", (), watch.handle_input, persistent=False, qos=0)
    beat = ServiceHeartbeat(
        service=GATEWAY, at=datetime.now(UTC), interval_s=BEAT, handled=1, errors=0, busy_s=0
    )
    raw_filter = topics.raw_device_filter("event")
    async with running(inputs), aiomqtt.Client("127.0.0.1", mosquitto.port) as device:
        follower = asyncio.create_task(watch.follow_inputs(inputs))
        try:
            await watch.handle_heartbeat(topics.service_heartbeat(GATEWAY), beat.to_json())
            await until_true(lambda: inputs.subscriptions == [raw_filter])
            await asyncio.sleep(0.2)  # the SUBACK
            await device.publish(RAW, b"{}", qos=1)
            await until_true(lambda: inputs.subscriptions == [])
            assert watch.stalls.waiting_s(GATEWAY, time.monotonic()) > 0
            progress = beat.model_copy(update={"handled": 2})
            await watch.handle_heartbeat(topics.service_heartbeat(GATEWAY), progress.to_json())
            await until_true(lambda: inputs.subscriptions == [raw_filter])
        finally:
            follower.cancel()


async def until_true(condition: Callable[[], bool], timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)

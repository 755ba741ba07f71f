"""A fall suspicion is saved before the telemetry that showed it is acknowledged.

The pendant's batches are not sent again once acknowledged, and until the 15 s confirmation
ends the suspicion lives only in the detector's state. Saved at the next tick only, a crash
in the seconds before it lost the fall; here the detector is "killed" right after the
batch that opened the suspicion returns, with no tick in between, and the restarted one
still raises the critical alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from detector.checkpoint import StateFile, one_at_a_time, pack, unpack
from detector.falls.rule import FallRule
from detector.service import STATE_FILE, Detector
from detector.service import run as run_detector
from eldercare.clock import RealClock, SimulatedClock
from eldercare.models import AlertKind, Severity
from eldercare.settings import Settings
from evaluation.falls.replay import telemetry_batches
from simulator import accel
from tests.falls_support import first_fall_alert, recording
from tests.harness import make_settings, service_process, wait_for_services

RATE = 50.0


@pytest.fixture(scope="module")
def fall() -> np.ndarray:
    return recording("SA03/F02_SA03_R01", RATE)


def saving_detector(tmp_path: Path) -> tuple[SimulatedClock, FallRule, Detector, list[bytes]]:
    """A detector with a fall rule whose every save is kept in order: a kill after any
    message leaves the last of them."""
    clock = SimulatedClock()
    rule = FallRule(confirm_s=15.0)
    detector = Detector(Settings(data_dir=tmp_path), clock, rules=[rule])
    saved: list[bytes] = []

    async def persist() -> None:
        saved.append(pack(detector.rules))

    detector.persist = persist
    return clock, rule, detector, saved


async def test_the_batch_that_opens_a_suspicion_is_saved_before_it_is_acknowledged(
    fall: np.ndarray, tmp_path: Path
) -> None:
    clock, rule, detector, saved = saving_detector(tmp_path)
    topic = detector.topics.normalised("h-0001", "pendant", "telemetry")
    opened_by = None
    for batch in telemetry_batches(fall, RATE, clock.now()):
        clock.set(batch.ts + timedelta(seconds=1))
        await detector.handle(topic, batch.to_json())
        if rule.suspected:
            opened_by = batch.seq
            break
    assert opened_by is not None, "the recording's fall was not suspected"
    # Saved at once twice: when a cut would first have raised the waiting impact, and when
    # the window opened; the batches between them saved nothing.
    assert len(saved) == 2

    # Killed here: no tick ran, so only the save made while handling the batch holds it.
    restarted = FallRule(confirm_s=15.0)
    assert unpack([restarted], saved[-1]) == [restarted.name]
    [alert] = restarted.on_tick(clock.now() + timedelta(seconds=40)).alerts
    assert (alert.kind, alert.severity) == (AlertKind.FALL, Severity.CRITICAL)


async def test_batches_that_open_nothing_are_not_saved_one_by_one(
    fall: np.ndarray, tmp_path: Path
) -> None:
    clock = SimulatedClock()
    detector = Detector(Settings(data_dir=tmp_path), clock, rules=[FallRule(confirm_s=15.0)])
    saves = 0

    async def persist() -> None:
        nonlocal saves
        saves += 1

    detector.persist = persist
    topic = detector.topics.normalised("h-0001", "pendant", "telemetry")
    upright = np.tile(fall[: round(RATE)], (20, 1))  # the second before the fall, repeated
    for batch in telemetry_batches(upright, RATE, clock.now()):
        clock.set(batch.ts + timedelta(seconds=1))
        await detector.handle(topic, batch.to_json())
    assert saves == 0


async def test_saves_asked_for_at_once_are_taken_in_turn() -> None:
    """The tick loop and a message may both save; a snapshot in parts has one writer."""
    writing = 0
    overlapped = False

    async def save() -> int:
        nonlocal writing, overlapped
        writing += 1
        overlapped |= writing > 1
        await asyncio.sleep(0)  # a snapshot written in parts yields to the loop
        writing -= 1
        return 7

    in_turn = one_at_a_time(save)
    assert await asyncio.gather(in_turn(), in_turn(), in_turn()) == [7, 7, 7]
    assert not overlapped


def simulated_fall(seed: int = 3) -> np.ndarray:
    """The simulator's pendant fall (4 s of upright, the fall, lying still): these tests run
    where the SisFall data is absent."""
    rng = np.random.default_rng(seed)
    lying = accel.fall(round(12 * RATE), RATE, 4.0, round(6 * RATE), rng)
    return np.asarray(accel.finish(lying, accel.wearing_rotation(rng), rng))


async def test_a_detector_killed_while_an_impact_waits_for_its_aftermath_keeps_the_fall(
    tmp_path: Path,
) -> None:
    """Killed (no stop, no last save) in the seconds between a fall's impact and the end of
    its aftermath, the detector leaves only its last save; the pendant's buffer is gone and
    its batches (QoS 0) are not sent again. That save holds what a cut would have decided,
    and the restarted detector raises the fall from it."""
    fall = simulated_fall()
    clock, rule, detector, saved = saving_detector(tmp_path)
    topic = detector.topics.normalised("h-0001", "pendant", "telemetry")
    kills: list[bytes | None] = []  # the last save, as a kill after each waiting batch finds it
    for batch in telemetry_batches(fall, RATE, clock.now()):
        clock.set(batch.ts + timedelta(seconds=1))
        await detector.handle(topic, batch.to_json())
        if rule.suspected:
            break
        if rule.pendants[("h-0001", "pendant")].stream.awaiting_aftermath:
            kills.append(saved[-1] if saved else None)
    assert rule.suspected, "the simulated fall was not suspected"
    assert len(kills) >= 2, "the aftermath spans batches"
    assert len(saved) <= 2  # a cut's answer changed once, then the window opened
    for last_save in kills[1:]:  # killed one batch after the impact's, or later
        assert last_save is not None
        restarted = FallRule(confirm_s=15.0)
        unpack([restarted], last_save)
        [alert] = restarted.on_tick(clock.now() + timedelta(seconds=40)).alerts
        assert (alert.kind, alert.severity) == (AlertKind.FALL, Severity.CRITICAL)
        assert alert.evidence[0].type == "accel_impact"


@pytest.mark.integration
async def test_a_detector_stopped_while_an_impact_waits_for_its_aftermath_keeps_the_fall(
    mosquitto,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """A deploy restarts the detector half a second after a fall's impact, through the real
    service and broker. The pendant's buffer dies with the process, and the next one would
    never see that impact's first half second again: the state it saves last holds what a
    cut would decide, and the next process raises it."""
    fall = simulated_fall()
    settings = make_settings(mosquitto, tmp_path)
    rule = FallRule(confirm_s=15.0, cut_s=600.0)  # no tick cuts it before the stop
    task = asyncio.create_task(run_detector(settings, RealClock(), rules=[rule]))
    key = ("h-0001", "pendant")
    cut = fall[: int(np.linalg.norm(fall, axis=1).argmax()) + round(0.5 * RATE)]
    start = datetime.now(UTC) - timedelta(seconds=len(cut) / RATE)
    try:
        await wait_for_services(settings, ["eldercare-detector"])
        async with aiomqtt.Client(settings.broker.host, settings.broker.port) as client:
            topic = settings.topics.normalised(*key, "telemetry")
            for batch in telemetry_batches(cut, RATE, start):
                await client.publish(topic, batch.to_json(), qos=1)
        async with asyncio.timeout(15):
            while key not in rule.pendants or rule.pendants[key].stream.resampler.emitted < len(
                cut
            ):
                await asyncio.sleep(0.05)
        assert rule.pendants[key].stream.awaiting_aftermath and not rule.suspected
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    restarted = FallRule(confirm_s=15.0)
    assert StateFile(tmp_path / STATE_FILE).load([restarted])
    [alert] = restarted.on_tick(datetime.now(UTC) + timedelta(seconds=40)).alerts
    assert (alert.kind, alert.severity) == (AlertKind.FALL, Severity.CRITICAL)


@pytest.mark.integration
@pytest.mark.slow
async def test_a_detector_process_killed_while_an_impact_waits_raises_the_fall_after_restart(
    mosquitto,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """The real fault: ``eldercare run detector`` as its own process, SIGKILLed one second
    after a fall's impact (no stop, no last save), then started again. Its pendant buffer
    and the batches (QoS 0) are gone; the fall comes back from the save the impact's
    provisional suspicion asked for, as a critical alert on the broker."""
    settings = make_settings(mosquitto, tmp_path)
    fall = simulated_fall()
    sent = fall[: int(np.linalg.norm(fall, axis=1).argmax()) + round(1.0 * RATE)]
    start = datetime.now(UTC) - timedelta(seconds=len(sent) / RATE)
    env = {"ELDERCARE_BROKER_URL": mosquitto.url, "ELDERCARE_LOG_LEVEL": "INFO"}
    log = tmp_path / "detector.log"
    first = service_process("detector", tmp_path, log, **env)
    try:
        await wait_for_services(settings, ["eldercare-detector"], timeout=30)
        async with aiomqtt.Client(settings.broker.host, settings.broker.port) as client:
            topic = settings.topics.normalised("h-0001", "pendant", "telemetry")
            for batch in telemetry_batches(sent, RATE, start):
                await client.publish(topic, batch.to_json(), qos=1)
        saved = StateFile(tmp_path / STATE_FILE)
        async with asyncio.timeout(4):  # before the 5 s silence would cut the stream
            while not _holds_a_fall(saved):
                await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
        first.wait(10)
    async with aiomqtt.Client(settings.broker.host, settings.broker.port) as client:
        await client.subscribe(settings.topics.all_alerts_filter, qos=1)
        second = service_process("detector", tmp_path, log, **env)
        try:
            alert = await first_fall_alert(client, timeout=60)
        finally:
            second.terminate()
            second.wait(10)
    assert (alert.home, alert.severity) == ("h-0001", Severity.CRITICAL)
    assert "fall_restored_mid_aftermath" in log.read_text()


def _holds_a_fall(saved: StateFile) -> bool:
    """The state file, as a restarted detector reads it, holds a fall to raise."""
    restored = FallRule(confirm_s=15.0)
    return saved.load([restored]) and bool(restored.suspected)  # written whole (os.replace)

"""A fall while no detector runs: the impact's batches wait at the broker.

Accelerometer batches go to the detector at QoS 0, which the broker does not keep for an
offline session; a detector restarting (or a killed instance's shards waiting for their
leases) missed every batch, and a fall whose impact landed then. The gateway now hands on
the batch with an impact-sized sample, a copy of the batch before it, and the pendant's
next seconds at QoS 1 (``gateway.impact_qos``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from detector.falls.rule import FallRule
from detector.service import run as run_detector
from eldercare.clock import RealClock
from eldercare.models import Metric, Severity, Telemetry
from evaluation.falls.replay import telemetry_batches
from gateway.impact_qos import ImpactQos
from tests.falls_support import first_fall_alert
from tests.gateway_support import START, device, make_gateway
from tests.harness import make_settings, wait_for_services
from tests.test_fall_suspicion_saved import RATE, simulated_fall

HOME = "h-0001"


def batch(seconds_before_start: float, peak_g: float, seq: int) -> Telemetry:
    """One second of a pendant at rest, its middle sample ``peak_g`` strong."""
    samples = [(0.0, 0.0, 1.0)] * 50
    samples[25] = (0.0, 0.0, peak_g)
    return Telemetry(
        home=HOME,
        device="pend",
        seq=seq,
        ts=START - timedelta(seconds=seconds_before_start),
        metric=Metric.ACCEL,
        rate_hz=50.0,
        samples=samples,
    )


async def test_the_gateway_hands_on_an_impact_its_second_before_and_its_aftermath_at_qos_1() -> (
    None
):
    gateway = make_gateway([device(HOME, "pend", "pendant")])
    topic = f"eldercare/v1/{HOME}/pend/telemetry"
    sent = []
    for seq, (before, peak) in enumerate([(20, 1.1), (19, 2.4), (17, 1.0), (15.5, 1.0), (14, 1.0)]):
        out = await gateway.handle(topic, batch(before, peak, seq + 1).to_json())
        sent.append([(decode(o.payload), o.qos) for o in out if o.topic.endswith("/telemetry")])
    # calm; the impact, after a copy of the calm batch before it; 2 s and 3.5 s after its
    # batch began (aftermath); 5 s after: calm again
    assert sent == [[(1, 0)], [(1, 1), (2, 1)], [(3, 1)], [(4, 1)], [(5, 0)]]


def decode(payload: bytes) -> int:
    return Telemetry.model_validate_json(payload).seq


def test_only_accelerometer_impacts_raise_the_qos() -> None:
    qos = ImpactQos()
    heart = Telemetry(home=HOME, device="b", seq=1, ts=START, metric=Metric.HEART_RATE, value=190)
    assert qos.batches(heart, b"h") == [(b"h", 0)]
    assert qos.batches(batch(2, 1.45, 1), b"1") == [(b"1", 0)]  # below a scored impact
    assert qos.batches(batch(1, 1.6, 2), b"2") == [(b"1", 1), (b"2", 1)]
    assert qos.batches(batch(0, 2.0, 3), b"3") == [(b"3", 1)]  # the window is open already


async def test_a_detector_that_had_the_batch_before_the_impact_takes_its_copy_in_stride() -> None:
    """Online, the detector gets the batch before an impact twice; the copy must neither
    restart its stream nor hide the impact."""
    fall = simulated_fall()
    start = datetime.now(UTC) - timedelta(seconds=len(fall) / RATE)
    rule = FallRule(confirm_s=15.0)
    qos = ImpactQos()
    for telemetry in telemetry_batches(fall, RATE, start):
        for body, _ in qos.batches(telemetry, telemetry.to_json()):
            rule.on_telemetry(Telemetry.model_validate_json(body), datetime.now(UTC))
    assert rule.suspected


@pytest.mark.integration
async def test_a_fall_while_the_detector_is_down_is_raised_when_it_is_back(
    mosquitto,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """The detector's session exists (it ran once) but no detector runs while the pendant
    falls; its batches are published as the gateway publishes them. The next detector gets
    the impact and its aftermath from the broker and raises the critical fall."""
    settings = make_settings(mosquitto, tmp_path)

    async def detector_for_a_while(rule: FallRule) -> asyncio.Task[None]:
        task = asyncio.create_task(run_detector(settings, RealClock(), rules=[rule]))
        await wait_for_services(settings, ["eldercare-detector"])
        return task

    first = await detector_for_a_while(FallRule(confirm_s=15.0))
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    fall = simulated_fall()
    start = datetime.now(UTC) - timedelta(seconds=len(fall) / RATE)
    qos = ImpactQos()
    async with aiomqtt.Client(settings.broker.host, settings.broker.port) as client:
        topic = settings.topics.normalised(HOME, "pendant", "telemetry")
        levels = []
        for telemetry in telemetry_batches(fall, RATE, start):
            for body, level in qos.batches(telemetry, telemetry.to_json()):
                await client.publish(topic, body, qos=level)
                levels.append(level)
        assert 1 in levels and 0 in levels
        await client.subscribe(settings.topics.all_alerts_filter, qos=1)
        second = await detector_for_a_while(FallRule(confirm_s=15.0))
        try:
            alert = await first_fall_alert(client, timeout=40)
        finally:
            second.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await second
    assert (alert.home, alert.severity) == (HOME, Severity.CRITICAL)
    assert alert.evidence[0].type == "accel_impact"

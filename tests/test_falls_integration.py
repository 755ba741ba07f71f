"""A real recorded fall, sent as pendant telemetry through a real broker, ends as an alert."""

from __future__ import annotations

import asyncio

import aiomqtt
import numpy as np
import pytest

from alerting.api import AlertingApi
from eldercare.app.runtime import Service
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine
from eldercare.models import AlertKind, Severity
from eldercare.topics import Channel
from evaluation.falls.replay import telemetry_batches
from simulator.homes import make_homes
from tests.falls_support import recording
from tests.harness import make_settings, running_system

pytestmark = pytest.mark.integration

RATE = 50.0


async def test_pendant_fall_becomes_a_critical_alert_in_alerting(mosquitto, tmp_path) -> None:
    settings = make_settings(mosquitto, tmp_path)
    clock = SimulatedClock()
    homes = make_homes(1)
    fall = recording("SA05/F04_SA05_R02", RATE)
    lying = np.tile(fall[-round(RATE) :], (25, 1))
    batches = telemetry_batches(np.concatenate([fall, lying]), RATE, clock.now())
    engine = create_engine(settings.db_url)
    services = (Service.GATEWAY, Service.DETECTOR, Service.ALERTING)
    try:
        async with (
            running_system(settings, homes, clock=clock, services=services),
            aiomqtt.Client("127.0.0.1", mosquitto.port) as pendant,
        ):
            topic = settings.topics.device("h-0001", "pendant", Channel.TELEMETRY)
            for batch in batches:
                await clock.advance(1.0)  # the batch is sent once its last sample is taken
                await pendant.publish(topic, batch.to_json(), qos=1)
                await asyncio.sleep(0.02)  # let the services keep pace with the fake clock
            api = AlertingApi(engine, clock)
            async with asyncio.timeout(10):
                while not (alerts := await api.list(home="h-0001")):
                    # Time goes on while the services work: a restarted gateway holds its
                    # main session's messages until its retained statuses are read (~1 s
                    # here), so the batches may all be judged after the last was sent.
                    await clock.advance(0.25)
                    await asyncio.sleep(0.05)
        [alert] = alerts
        assert alert.kind is AlertKind.FALL
        assert alert.severity is Severity.CRITICAL
        assert alert.evidence[0]["device"] == "pendant"
        assert alert.evidence[0]["type"] == "accel_impact"
    finally:
        await engine.dispose()

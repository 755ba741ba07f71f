"""Every service serves Prometheus ``/metrics``, and its counters move with real traffic.

Before, handled messages, rejects by reason, alerts, notifications and the spool were counted
only in memory: an operator saw them nowhere but in log lines.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from eldercare.app.runtime import Service
from eldercare.broker import LocalMosquitto, free_port
from eldercare.clock import RealClock
from eldercare.db import prepared_engine
from eldercare.metrics import (
    ALERTS_RAISED,
    ESCALATION_STEPS,
    GATEWAY_QUARANTINED,
    MESSAGES_HANDLED,
    MQTT_CONNECTED,
    NOTIFICATIONS,
    Family,
    ProcessCollector,
    reason_label,
)
from eldercare.models import Event, EventType
from eldercare.settings import Settings
from eldercare.topics import Channel
from gateway.registry import Registry
from simulator.demo_people import registry_document, write_policies
from simulator.homes import make_homes
from simulator.layout import WALL_BUTTON
from tests.alerting_support import WebhookReceiver
from tests.harness import (
    SERVICE_IDS,
    make_settings,
    running_system,
    service_process,
    wait_for_services,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, family: Family, **labels: str) -> float:
    return samples.get((family.exposed_name, frozenset(labels.items())), 0.0)


# --- the process collector, without a server -------------------------------------------------


def test_one_family_per_name_however_many_services_feed_it() -> None:
    """The demo runs every service in one process: each family is exposed once, with the
    samples of all; two instances with the same labels add up instead of clashing."""
    collector = ProcessCollector()

    def first() -> Iterator[tuple[Family, tuple[str, ...], float]]:
        yield MESSAGES_HANDLED, ("eldercare-gateway",), 3
        yield MQTT_CONNECTED, ("eldercare-gateway",), 1

    def second() -> Iterator[tuple[Family, tuple[str, ...], float]]:
        yield MESSAGES_HANDLED, ("eldercare-detector",), 2
        yield MESSAGES_HANDLED, ("eldercare-gateway",), 4

    collector.add(first)
    collector.add(second)
    families = {family.name: family for family in collector.collect()}
    assert set(families) == {"eldercare_messages_handled", "eldercare_mqtt_connected"}
    handled = {s.labels["service"]: s.value for s in families["eldercare_messages_handled"].samples}
    assert handled == {"eldercare-gateway": 7, "eldercare-detector": 2}
    collector.remove(second)
    assert {s.value for s in next(iter(collector.collect())).samples} == {3}


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("schema", "schema"),
        ("unknown device", "unknown device"),
        ("rate_limited", "rate_limited"),
        ("h-0001/btn-hall said 12", "other"),
        ("Schema", "other"),
        ("x" * 40, "other"),
    ],
)
def test_reason_labels_are_a_bounded_set(kind: str, label: str) -> None:
    """A reason's kind comes from our code; anything else (ids, numbers) must not become a
    label value, or one garbage sender would make a series per message."""
    assert reason_label(kind) == label


# --- all services in one process, as in the demo ---------------------------------------------


@pytest.mark.integration
async def test_one_endpoint_serves_every_service_of_the_process(
    mosquitto: LocalMosquitto, tmp_path: Path
) -> None:
    settings = make_settings(mosquitto, tmp_path, metrics_port=free_port())
    async with running_system(settings, make_homes(1)), httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{settings.metrics_port}/metrics")
    assert response.status_code == 200
    samples = parse(response.text)
    dashboard = f"eldercare-dashboard-{settings.http_port}"
    for client_id in [*SERVICE_IDS.values(), dashboard]:
        assert value(samples, MQTT_CONNECTED, service=client_id) == 1, client_id


# --- every service as its own process, as in compose -----------------------------------------


async def _scrape_until(
    client: httpx.AsyncClient, port: int, done: Callable[[Samples], bool], timeout: float = 30
) -> Samples:
    """Scrape until ``done(samples)`` holds, or fail with the last scrape."""
    samples: Samples = {}
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while loop.time() < give_up:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        samples = parse(response.text)
        if done(samples):
            return samples
        await asyncio.sleep(0.3)
    pytest.fail(f"port {port}: counters did not move: {sorted(samples)[:60]}")


@pytest.mark.integration
@pytest.mark.slow
async def test_each_service_process_serves_metrics_that_count_real_traffic(
    mosquitto: LocalMosquitto, tmp_path: Path
) -> None:
    home = make_homes(1)[0]
    clock = RealClock()
    async with WebhookReceiver() as inbox:
        settings = Settings(broker_url=mosquitto.url, data_dir=tmp_path)
        engine = await prepared_engine(settings)
        try:
            await Registry(engine, clock).apply(
                registry_document([(home.home_id, home.devices)], inbox.port)
            )
        finally:
            await engine.dispose()
        http_port = free_port()
        ports = {service: free_port() for service in Service}
        processes = [
            service_process(
                service.value,
                tmp_path,
                tmp_path / f"{service.value}.log",
                ELDERCARE_BROKER_URL=mosquitto.url,
                ELDERCARE_HTTP_PORT=str(http_port),
                ELDERCARE_METRICS_PORT=str(ports[service]),
                ELDERCARE_POLICIES_DIR=str(write_policies(tmp_path / "policies", inbox.port)),
            )
            for service in Service
        ]
        dashboard_id = f"eldercare-dashboard-{http_port}"
        client_ids = {**SERVICE_IDS, Service.DASHBOARD: dashboard_id}
        moved: dict[Service, Callable[[Samples], bool]] = {
            Service.GATEWAY: lambda s: (
                value(s, GATEWAY_QUARANTINED, reason="schema") >= 1
                and value(s, MESSAGES_HANDLED, service="eldercare-gateway") >= 2
            ),
            Service.DETECTOR: lambda s: value(s, ALERTS_RAISED, kind="call_button") >= 1,
            Service.ALERTING: lambda s: (
                value(s, NOTIFICATIONS, outcome="sent") >= 1
                and value(s, ESCALATION_STEPS, status="notified") >= 1
            ),
            Service.DASHBOARD: lambda s: value(s, MESSAGES_HANDLED, service=dashboard_id) >= 1,
        }
        try:
            await wait_for_services(settings, client_ids.values(), timeout=60)
            await _press_and_garbage(settings, home.home_id)
            async with httpx.AsyncClient(timeout=5) as client:
                scraped = {
                    service: await _scrape_until(client, ports[service], done)
                    for service, done in moved.items()
                }
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
    for service, samples in scraped.items():
        assert value(samples, MQTT_CONNECTED, service=client_ids[service]) == 1, service
        # Each process reports its own services only, and the process's own figures too.
        reported = {dict(labels)["service"] for _, labels in samples if "service" in dict(labels)}
        assert client_ids[service] in reported
        assert not reported & (set(client_ids.values()) - {client_ids[service]}), service
        assert ("process_resident_memory_bytes", frozenset()) in samples, service
    assert inbox.received, "the station was notified"
    # The press was accepted and raised exactly one alert; the garbage was not.
    assert value(scraped[Service.DETECTOR], ALERTS_RAISED, kind="call_button") == 1
    gateway = scraped[Service.GATEWAY].items()
    rejects = [count for (name, _), count in gateway if name == GATEWAY_QUARANTINED.exposed_name]
    assert rejects == [1]


async def _press_and_garbage(settings: Settings, home: str) -> None:
    topic = settings.topics.device(home, WALL_BUTTON, Channel.EVENT)
    press = Event(
        home=home,
        device=WALL_BUTTON,
        seq=1,
        ts=datetime.now(UTC),
        type=EventType.CALL_BUTTON,
        value={"press": "single"},
    )
    broker = settings.broker
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.publish(topic, press.to_json(), qos=1)
        await client.publish(topic, b"{not json", qos=1)

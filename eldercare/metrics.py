"""Prometheus metrics for every service, read at scrape time from the counters they keep.

The services count anyway (the bus its handled messages and errors, the gateway its rejects
by reason, the detector its rule failures…), for heartbeats and logs. A collector reads those
counters when Prometheus scrapes, so no hot path gains work and nothing is counted twice.

One collector per process, fed by every service in it: in ``eldercare demo`` all services
share a process, and Prometheus wants each family once, so samples from several sources are
merged here (summed where two instances give the same labels, as two test instances may).
The families are declared once below; a service only says which of its counters feed which.

Labels are bounded sets (service names, alert kinds, rule names, a reject's reason *kind*):
never home or device ids, which would make one series per device.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import uvicorn
from prometheus_client import REGISTRY, make_asgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from eldercare.bus import MqttConnection
from eldercare.logs import get_logger
from eldercare.settings import Settings
from eldercare.web import EmbeddedServer

log = get_logger("metrics")


@dataclass(frozen=True, slots=True)
class Family:
    """A metric's name (counters without ``_total``: the exposition adds it), its help text
    and label names."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    gauge: bool = False

    @property
    def exposed_name(self) -> str:
        """The name as queried in PromQL."""
        return self.name if self.gauge else f"{self.name}_total"


Reading = tuple[Family, tuple[str, ...], float]
Source = Callable[[], Iterable[Reading]]

# Every service's MQTT connection (``service`` is its client id).
MESSAGES_HANDLED = Family(
    "eldercare_messages_handled", "MQTT messages a service finished handling", ("service",)
)
HANDLER_ERRORS = Family(
    "eldercare_handler_errors", "handler failures, each try counted", ("service",)
)
HANDLER_RETRIES = Family(
    "eldercare_handler_retries",
    "handler tries repeated because the database or broker was away",
    ("service",),
)
DEAD_LETTERS = Family(
    "eldercare_dead_letters", "messages set aside after repeated failures", ("service",)
)
MESSAGES_SHED = Family(
    "eldercare_messages_shed",
    "messages a sampled (QoS 0) session dropped, oldest first, when it fell behind",
    ("service",),
)
MQTT_CONNECTED = Family(
    "eldercare_mqtt_connected", "1 while connected to the broker", ("service",), gauge=True
)
# Gateway.
GATEWAY_ACCEPTED = Family("eldercare_gateway_accepted", "device messages accepted")
GATEWAY_DUPLICATES = Family("eldercare_gateway_duplicates", "redelivered device messages dropped")
GATEWAY_QUARANTINED = Family(
    "eldercare_gateway_quarantined", "device payloads quarantined, by reason", ("reason",)
)
GATEWAY_RATE_LIMITED = Family(
    "eldercare_gateway_rate_limited_dropped", "device messages dropped over their rate limit"
)
GATEWAY_STATUSES_RESTORED = Family(
    "eldercare_gateway_statuses_restored",
    "its own retained statuses read back at start, by outcome (restored, ignored, malformed)",
    ("outcome",),
)
GATEWAY_STATUSES_READ = Family(
    "eldercare_gateway_statuses_read",
    "1 once its retained statuses are read back at start (its main session's messages and "
    "liveness ticks wait until then; the life-safety lane does not)",
    gauge=True,
)
GATEWAY_STATUS_READS_CUT_SHORT = Family(
    "eldercare_gateway_status_reads_cut_short",
    "reads of its retained statuses at start ended by their time limit, not by quiet",
)
# Detector.
ALERTS_RAISED = Family("eldercare_detector_alerts_raised", "alerts raised, by kind", ("kind",))
RULE_FAILURES = Family(
    "eldercare_detector_rule_failures", "rule evaluations that raised, by rule", ("rule",)
)
DETECTOR_INVALID = Family(
    "eldercare_detector_invalid_messages", "normalised messages the detector could not read"
)
DETECTOR_RECEIVED = Family(
    "eldercare_detector_received", "normalised device messages received, by channel", ("channel",)
)
# Alerting.
ALERTS_REJECTED = Family(
    "eldercare_alerting_alerts_rejected", "alerts quarantined by alerting as unreadable"
)
NOTIFICATIONS = Family(
    "eldercare_notifications",
    "notifications taken from the outbox, by outcome: sent, retry (will try again), failed "
    "(gave up, next tier brought forward), cancelled (acknowledged while in flight)",
    ("outcome",),
)
ESCALATION_STEPS = Family(
    "eldercare_escalation_steps",
    "escalation timers fired, by the status they gave the alert: notified (first tier), "
    "escalated (a later tier), expired",
    ("status",),
)
# The time-series writer (gateway and detector).
SERIES_POINTS = Family(
    "eldercare_series_points",
    "time-series points by outcome: written, spooled, replayed, dropped, rejected",
    ("service", "outcome"),
)
SERIES_SPOOL_POINTS = Family(
    "eldercare_series_spool_points", "points waiting on disk for InfluxDB", ("service",), True
)
SERIES_SPOOL_BYTES = Family(
    "eldercare_series_spool_bytes", "size of the on-disk spool", ("service",), True
)

FAMILIES = (
    MESSAGES_HANDLED,
    HANDLER_ERRORS,
    HANDLER_RETRIES,
    DEAD_LETTERS,
    MESSAGES_SHED,
    MQTT_CONNECTED,
    GATEWAY_ACCEPTED,
    GATEWAY_DUPLICATES,
    GATEWAY_QUARANTINED,
    GATEWAY_RATE_LIMITED,
    GATEWAY_STATUSES_RESTORED,
    GATEWAY_STATUSES_READ,
    GATEWAY_STATUS_READS_CUT_SHORT,
    ALERTS_RAISED,
    RULE_FAILURES,
    DETECTOR_INVALID,
    DETECTOR_RECEIVED,
    ALERTS_REJECTED,
    NOTIFICATIONS,
    ESCALATION_STEPS,
    SERIES_POINTS,
    SERIES_SPOOL_POINTS,
    SERIES_SPOOL_BYTES,
)

#: A reason kind is a short fixed word from our code ("schema", "unknown device"); anything
#: else is counted as "other" rather than becoming a label value.
_REASON_KIND = re.compile(r"[a-z][a-z_ ]{0,31}")


def reason_label(kind: str) -> str:
    return kind if _REASON_KIND.fullmatch(kind) else "other"


def connection_readings(connection: MqttConnection) -> Source:
    """The bus's own counters: one set per MQTT connection."""

    def read() -> Iterator[Reading]:
        service = (connection.client_id,)
        yield MESSAGES_HANDLED, service, connection.handled
        yield HANDLER_ERRORS, service, connection.handler_errors
        yield HANDLER_RETRIES, service, connection.retries
        yield DEAD_LETTERS, service, connection.dead_letters
        yield MESSAGES_SHED, service, connection.shed
        yield MQTT_CONNECTED, service, float(connection.connected.is_set())

    return read


class ProcessCollector(Collector):
    """Merges the readings of every source in this process into one family per name."""

    def __init__(self) -> None:
        self._sources: list[Source] = []

    def add(self, source: Source) -> None:
        self._sources.append(source)

    def remove(self, source: Source) -> None:
        self._sources.remove(source)

    def collect(self) -> Iterator[Metric]:
        values: dict[Family, dict[tuple[str, ...], float]] = {}
        for source in list(self._sources):
            for family, labels, value in source():
                samples = values.setdefault(family, {})
                samples[labels] = samples.get(labels, 0.0) + value
        for family, samples in values.items():
            kind = GaugeMetricFamily if family.gauge else CounterMetricFamily
            metric = kind(family.name, family.documentation, labels=family.labels)
            for labels, value in samples.items():
                metric.add_metric(labels, value)
            yield metric


COLLECTOR = ProcessCollector()
REGISTRY.register(COLLECTOR)


async def export(*sources: Source) -> None:
    """Until cancelled, the sources' readings are part of this process's ``/metrics``.

    A task in the service's TaskGroup, so a stopped service stops being reported.
    """
    for source in sources:
        COLLECTOR.add(source)
    try:
        await asyncio.Event().wait()
    finally:
        for source in sources:
            COLLECTOR.remove(source)


async def serve(settings: Settings) -> None:
    """``/metrics`` of every service in this process, on ``metrics_host:metrics_port``.

    Its own port, not the dashboard's: Prometheus scrapes it on the internal network, so it
    needs no login, and services without a web server (gateway, detector, alerting) have one.
    Process, memory and garbage-collector figures come with prometheus_client's defaults.
    """
    assert settings.metrics_port is not None
    server = EmbeddedServer(
        uvicorn.Config(
            make_asgi_app(REGISTRY),
            host=settings.metrics_host,
            port=settings.metrics_port,
            log_config=None,
            lifespan="off",
            access_log=False,  # one line per scrape every few seconds says nothing
        )
    )
    log.info(
        "metrics_serving", url=f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
    )
    await server.serve_until_cancelled()

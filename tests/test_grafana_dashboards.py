"""The Grafana dashboards ask only for what the writer actually writes.

The list of measurements, fields, tags and ``type`` values is derived by running the
writer's own point builders over every member of the contract's enums, not copied, so
renaming a field in ``eldercare/series_points.py`` breaks this test instead of a dashboard.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from eldercare.clock import SimulatedClock
from eldercare.db.models import Base
from eldercare.metrics import (
    ALERTS_RAISED,
    DEAD_LETTERS,
    ESCALATION_STEPS,
    FAMILIES,
    GATEWAY_QUARANTINED,
    HANDLER_ERRORS,
    MESSAGES_HANDLED,
    MESSAGES_SHED,
    MQTT_CONNECTED,
    NOTIFICATIONS,
    RULE_FAILURES,
    SERIES_POINTS,
    SERIES_SPOOL_POINTS,
)
from eldercare.models import (
    AlertStatus,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Metric,
    SeriesPoint,
    Telemetry,
)
from eldercare.series_points import event_point, quarantine_point, status_point, telemetry_point
from eldercare.series_spool import DiskSpool
from eldercare.timeseries import InfluxTransport, SeriesWriter

ROOT = Path(__file__).resolve().parents[1]
GRAFANA = ROOT / "dashboards" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@dataclass
class Schema:
    fields: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)


def written_points(tmp_path: Path) -> list[SeriesPoint]:
    points = [
        event_point(Event(home="h", device="d", seq=1, ts=AT, type=kind), room="hall")
        for kind in EventType
    ]
    for metric in Metric:
        accel = metric is Metric.ACCEL
        telemetry = Telemetry(
            home="h",
            device="d",
            seq=1,
            ts=AT,
            metric=metric,
            value=None if accel else 1.0,
            rate_hz=50 if accel else None,
            samples=[(0.0, 0.0, 1.0)] if accel else None,
        )
        points.append(telemetry_point(telemetry, room="hall"))
    for state in DeviceState:
        points.append(status_point(DeviceStatus(home="h", device="d", state=state), AT, "hall"))
    points.append(quarantine_point("schema: bad", AT, "h", "d"))
    writer = SeriesWriter(
        InfluxTransport("http://127.0.0.1:9", "t", "o", "b"),
        DiskSpool(tmp_path, 1000),
        service="gateway",
        clock=SimulatedClock(AT),
    )
    points.append(writer.stats_point())
    return points


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Schema]:
    schemas: dict[str, Schema] = defaultdict(Schema)
    for point in written_points(tmp_path_factory.mktemp("spool")):
        entry = schemas[point.measurement]
        entry.fields |= set(point.fields)
        entry.tags |= set(point.tags)
        if "type" in point.tags:
            entry.types.add(point.tags["type"])
    return dict(schemas)


def flux_queries() -> list[tuple[str, str]]:
    """(where, query) of every Flux text we ship: dashboard panels and the InfluxDB task."""
    queries = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if "query" in target:
                    queries.append((f"{path.name}: {panel['title']}", target["query"]))
    script = (ROOT / "deploy/influxdb/init/10-daily-summaries.sh").read_text()
    flux = script.split("<<FLUX\n", 1)[1].split("\nFLUX\n", 1)[0]
    queries.append(("daily-summaries task", flux))
    return queries


def sql_queries() -> list[tuple[str, str]]:
    return [
        (f"{path.name}: {panel['title']}", target["rawSql"])
        for path in DASHBOARDS
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
        if "rawSql" in target
    ]


def promql_targets() -> list[tuple[str, dict[str, str]]]:
    """(where, target) of every Prometheus query in the dashboards."""
    return [
        (f"{path.name}: {panel['title']}", target)
        for path in DASHBOARDS
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


#: What Prometheus adds itself: whether a scrape answered, and the scrape's own labels.
PROMETHEUS_OWN = {"up"}
SCRAPE_LABELS = {"job", "instance"}


def test_three_dashboards_are_valid_and_use_provisioned_datasources() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/eldercare.yaml").read_text())
    uids = {source["uid"] for source in provisioned["datasources"]}
    assert {path.stem for path in DASHBOARDS} == {"station-overview", "home-day", "system-health"}
    seen_uids = set()
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in seen_uids
        seen_uids.add(board["uid"])
        assert board["title"] and board["panels"]
        assert len({panel["id"] for panel in board["panels"]}) == len(board["panels"])
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] in uids, panel["title"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in uids
        for variable in board["templating"]["list"]:
            assert variable["datasource"]["uid"] in uids
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/eldercare.yaml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_datasource_secrets_come_from_the_environment() -> None:
    text = (GRAFANA / "provisioning/datasources/eldercare.yaml").read_text()
    sources = yaml.safe_load(text)["datasources"]
    for source in sources:
        for value in source.get("secureJsonData", {}).values():
            assert re.fullmatch(r"\$\{[A-Z_]+\}", value), value
    influx = next(source for source in sources if source["type"] == "influxdb")
    assert influx["jsonData"]["version"] == "Flux"


@pytest.mark.parametrize(("where", "query"), flux_queries(), ids=lambda item: str(item)[:60])
def test_flux_refers_only_to_what_we_write(
    where: str, query: str, schema: dict[str, Schema]
) -> None:
    measurements = set(re.findall(r'r\._measurement == "([^"]+)"', query))
    assert measurements, f"{where}: no measurement filter"
    unknown = measurements - set(schema)
    assert not unknown, f"{where}: nobody writes {unknown}"
    fields = set().union(*(schema[name].fields for name in measurements))
    tags = set().union(*(schema[name].tags for name in measurements))
    types = set().union(*(schema[name].types for name in measurements))
    for wanted in re.findall(r'r\._field == "([^"]+)"', query):
        assert wanted in fields, f"{where}: field {wanted!r} not in {sorted(fields)}"
    for tag in re.findall(r"\br\.([a-z][a-z_]*)\b", query):
        assert tag in tags, f"{where}: tag {tag!r} not in {sorted(tags)}"
    for value in re.findall(r'r\.type == "([^"]+)"', query):
        assert value in types, f"{where}: type {value!r} is never written"
    for column in re.findall(r"columns: \[([^\]]*)\]", query):
        for name in re.findall(r'"([^"]+)"', column):
            assert name.startswith("_") or name in tags, f"{where}: column {name!r}"


@pytest.mark.parametrize(("where", "query"), sql_queries(), ids=lambda item: str(item)[:60])
def test_sql_refers_to_real_alert_columns(where: str, query: str) -> None:
    table_name = re.search(r"\bFROM (\w+)", query)
    assert table_name, where
    table = Base.metadata.tables[table_name[1]]
    select_list = query.split("SELECT", 1)[1].split("FROM", 1)[0]
    named = re.findall(r"(?:^|,)\s*([a-z_]+)(?=\s*(?:AS\b|,|$))", select_list.strip())
    used = set(named) | set(re.findall(r"\b([a-z_]+) IN \(", query))
    used |= set(re.findall(r"ORDER BY ([a-z_]+)", query))
    assert used, where
    assert used <= set(table.columns.keys()), f"{where}: {used - set(table.columns.keys())}"
    for status in re.findall(r"'([a-z]+)'", query):
        assert AlertStatus(status).is_active, f"{where}: {status} is not an active status"


@pytest.mark.parametrize(("where", "target"), promql_targets(), ids=lambda item: str(item)[:60])
def test_promql_refers_only_to_what_the_services_export(where: str, target: dict[str, str]) -> None:
    """Metric and label names are checked against ``eldercare.metrics``, where they are
    declared, so renaming a family breaks this test instead of a panel."""
    exported = {family.exposed_name: family for family in FAMILIES}
    query = target["expr"]
    names = set(re.findall(r"\b(eldercare_[a-z_]+)\b", query))
    own = set(re.findall(r"\b([a-z_]+)\{", query)) & PROMETHEUS_OWN
    assert names or own, f"{where}: no metric"
    assert names <= set(exported), f"{where}: nobody exports {names - set(exported)}"
    labels = SCRAPE_LABELS.union(*(exported[name].labels for name in names))
    used = {
        name.strip() for group in re.findall(r"by \(([^)]*)\)", query) for name in group.split(",")
    }
    used |= {
        name
        for group in re.findall(r"\{([^}]*)\}", query)
        for name in re.findall(r"(\w+)\s*!?[=~]", group)
    }
    used |= set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")))
    assert used <= labels, f"{where}: labels {used - labels} not in {sorted(labels)}"


def test_system_health_shows_the_service_counters() -> None:
    """Issue 14: handled, errors, dead letters, quarantined by reason, alerts, notifications,
    escalation and the spool, live from the services rather than only in their memory; and
    what sampled sessions shed (issue 18)."""
    wanted = {
        family.exposed_name
        for family in (
            MESSAGES_HANDLED,
            MESSAGES_SHED,
            HANDLER_ERRORS,
            DEAD_LETTERS,
            MQTT_CONNECTED,
            GATEWAY_QUARANTINED,
            ALERTS_RAISED,
            RULE_FAILURES,
            NOTIFICATIONS,
            ESCALATION_STEPS,
            SERIES_SPOOL_POINTS,
            SERIES_POINTS,
        )
    }
    used = {
        name
        for where, target in promql_targets()
        if where.startswith("system-health.json")
        for name in re.findall(r"\b(eldercare_[a-z_]+)\b", target["expr"])
    }
    assert wanted <= used, wanted - used

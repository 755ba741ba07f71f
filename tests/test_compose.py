"""docker-compose.yml, checked by parsing: no Docker engine runs here, so this is not a
start of the stack, only a guard on the rules it must keep (health, order, data, secrets)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from eldercare.app.runtime import Service
from eldercare.broker import QUEUE_CONFIG
from eldercare.settings import Settings
from gateway.mqtt_auth import service_username

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET|_KEY)$")
#: ``${VAR:?message}``: compose refuses to start while VAR is unset or empty.
REQUIRED_REF = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):\?[^}]*\}")
ANY_REF = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<rest>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def one_shot_jobs(services: dict[str, Any]) -> set[str]:
    """Services others wait to *finish* (e.g. migrations): they have no health to check."""
    return {
        name
        for service in services.values()
        for name, rule in (service.get("depends_on") or {}).items()
        if rule["condition"] == "service_completed_successfully"
    }


def test_every_component_and_backing_service_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"mosquitto", "influxdb", "grafana", "postgres"} <= set(services)
    ours = {name: spec for name, spec in services.items() if "build" in spec}
    commands = {tuple(spec["command"]) for spec in ours.values()}
    for component in Service:
        assert ("run", component.value) in commands, component
    assert ("db-upgrade",) in commands


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]
    jobs = one_shot_jobs(services)
    assert jobs == {"migrate"}
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name in jobs:
            continue
        check = service.get("healthcheck")
        assert check and check["test"] and check["test"] != ["NONE"], name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_our_services_get_sigterm_through_an_init_and_time_to_stop(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    ours = {name: spec for name, spec in services.items() if spec.get("command", [""])[0] == "run"}
    assert len(ours) == len(Service)
    for name, spec in ours.items():
        assert spec.get("init") is True, name
        assert spec.get("stop_grace_period") == "20s", name  # past the services' own 15 s


def test_depends_on_waits_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on")
        if "build" in service or name == "grafana":
            assert depends, f"{name} must wait for what it needs"
        assert isinstance(depends or {}, dict), f"{name}: depends_on as a list has no conditions"
        for target, rule in (depends or {}).items():
            assert isinstance(rule, dict), f"{name}: depends_on without a condition"
            assert target in services, f"{name} depends on unknown {target}"
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}'s health"
    for component in ("gateway", "detector", "alerting", "dashboard"):
        depends = services[component]["depends_on"]
        assert {"mosquitto", "postgres", "influxdb", "migrate"} <= set(depends), component


def test_long_running_services_keep_data_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose["volumes"])
    for name, service in services.items():
        if name in one_shot_jobs(services):
            continue
        named = {
            entry.split(":", 1)[0]
            for entry in service.get("volumes", [])
            if not entry.startswith((".", "/", "$"))
        }
        assert named, f"{name} has no data volume"
        assert named <= declared, f"{name}: undeclared volumes {named - declared}"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image, f"{name} has no image name"
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag, f"{name}: {image} has no tag"
        assert "latest" not in tag.lower(), f"{name}: {image}"
        assert not ANY_REF.fullmatch(tag) or REQUIRED_REF.fullmatch(tag), f"{name}: {image}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.M)
    assert base and ":" in base[1] and "latest" not in base[1]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    assert isinstance(environment, dict)
    return {key: str(value) for key, value in environment.items()}


def test_no_literal_secrets(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_REF.fullmatch(value), f"{name}.{key} must be ${{VAR:?}}"
            for user_info in re.findall(r"://([^@/\s]+)@", value):
                _user, _, password = user_info.partition(":")
                assert REQUIRED_REF.fullmatch(password), f"{name}.{key}: password in URL"
    for line in (ROOT / ".env.example").read_text().splitlines():
        key, _, value = line.partition("=")
        if SECRET_NAME.search(key) and not line.startswith("#"):
            assert value == "", f".env.example must leave {key} empty"


def test_every_variable_is_documented_in_env_example(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = {match["name"] for match in ANY_REF.finditer(text)}
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert used <= documented, used - documented


def test_broker_requires_authentication_and_acl(compose: dict[str, Any]) -> None:
    config = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    settings = dict(
        line.split(None, 1) for line in config.splitlines() if line and not line.startswith("#")
    )
    assert settings["allow_anonymous"] == "false"
    mounts = {
        entry.rsplit(":", 2)[1] if entry.count(":") >= 2 else entry.split(":")[1]
        for entry in compose["services"]["mosquitto"]["volumes"]
    }
    for option in ("password_file", "acl_file"):
        assert any(settings[option].startswith(mount + "/") for mount in mounts), option
    for component in ("gateway", "detector", "alerting", "dashboard"):
        environment = _environment(compose["services"][component])
        # the accounts ``eldercare homes mqtt-auth`` generates, each with its own ACL
        assert environment["ELDERCARE_MQTT_USERNAME"] == service_username(component)


def test_broker_queues_are_the_same_in_production_and_tests() -> None:
    """Issue 19: the queue bound decides when mosquitto drops a session's QoS 1 messages."""
    config = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text().splitlines()
    for line in QUEUE_CONFIG.splitlines():
        assert line in config, line


def test_influxdb_is_initialised_from_env_with_90_day_retention(compose: dict[str, Any]) -> None:
    environment = _environment(compose["services"]["influxdb"])
    assert environment["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    assert environment["DOCKER_INFLUXDB_INIT_RETENTION"] == "${INFLUXDB_RETENTION:-90d}"
    grafana = _environment(compose["services"]["grafana"])
    assert grafana["INFLUXDB_TOKEN"] == environment["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    gateway = _environment(compose["services"]["gateway"])
    assert gateway["ELDERCARE_INFLUX_TOKEN"] == environment["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    assert gateway["ELDERCARE_INFLUX_URL"] == "http://influxdb:8086"


def test_prometheus_scrapes_every_service_on_its_metrics_port(compose: dict[str, Any]) -> None:
    """Issue 14: each service's /metrics, scraped inside the stack, read by Grafana."""
    services = compose["services"]
    prometheus = services["prometheus"]
    config_path = "/etc/prometheus/prometheus.yml"
    assert f"./deploy/prometheus/prometheus.yml:{config_path}:ro" in prometheus["volumes"]
    assert f"--config.file={config_path}" in prometheus["command"]
    assert "ports" not in prometheus, "metrics stay on the internal network"
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        job["job_name"]: target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    # replicas: every one of them, found by the service's name (one address per replica)
    targets |= {
        job["job_name"]: f"{name}:{found['port']}"
        for job in config["scrape_configs"]
        for found in job.get("dns_sd_configs", [])
        for name in found["names"]
    }
    assert set(targets) == {component.value for component in Service}
    for component in Service:
        environment = _environment(services[component.value])
        assert environment["ELDERCARE_METRICS_HOST"] == "0.0.0.0", component
        port = environment["ELDERCARE_METRICS_PORT"]
        assert targets[component.value] == f"{component.value}:{port}", component
        replicas = services[component.value].get("deploy", {}).get("replicas", 1)
        scraped = next(j for j in config["scrape_configs"] if j["job_name"] == component.value)
        assert replicas == 1 or "dns_sd_configs" in scraped, f"{component}: one replica scraped"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    sources = yaml.safe_load(
        (ROOT / "dashboards/grafana/provisioning/datasources/eldercare.yaml").read_text()
    )["datasources"]
    assert {"type": "prometheus", "url": "http://prometheus:9090"}.items() <= next(
        source for source in sources if source["type"] == "prometheus"
    ).items()


def test_every_eldercare_variable_is_a_setting(compose: dict[str, Any]) -> None:
    """A misspelt ELDERCARE_* variable would be ignored and the default used silently."""
    for name, service in compose["services"].items():
        for key in _environment(service):
            if key.startswith("ELDERCARE_"):
                field = key.removeprefix("ELDERCARE_").lower()
                assert field in Settings.model_fields, f"{name}: {key} is not a setting"


def test_two_detector_and_two_alerting_replicas_share_the_work_through_leases(
    compose: dict[str, Any],
) -> None:
    """Issue 18: detector and alerting run twice; each container checks its own health (a
    replica's MQTT presence is per shard or per lease holder, not per container)."""
    services = compose["services"]
    for name in ("detector", "alerting"):
        service = services[name]
        assert service["deploy"]["replicas"] == 2, name
        assert _environment(service)["ELDERCARE_REPLICAS"] == "true", name
        port = _environment(service)["ELDERCARE_METRICS_PORT"]
        assert service["healthcheck"]["test"][-1] == f"http://127.0.0.1:{port}/metrics", name
        assert "container_name" not in service, f"{name}: a fixed name allows one replica"
        assert "ELDERCARE_INSTANCE_ID" not in _environment(service), "one id for two replicas"
    for name in ("gateway", "dashboard"):
        assert services[name].get("deploy", {}).get("replicas", 1) == 1, name

"""Runtime settings from ``ELDERCARE_*`` environment variables (or a ``.env`` file).

Secrets never have working defaults outside the demo: production refuses to start
without them, so a forgotten variable fails loudly instead of running with a known key.
"""

from __future__ import annotations

import secrets
import socket
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eldercare.clock import Clock, RealClock, ScaledClock
from eldercare.topics import DEFAULT_PREFIX, DEFAULT_SHARD_COUNT, Topics


class Environment(StrEnum):
    DEMO = "demo"
    DEV = "dev"
    PRODUCTION = "production"


class BrokerAddress:
    """``mqtt://user:pass@host:port`` split into what aiomqtt needs."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "tcp"}:
            raise ValueError(f"broker url must start with mqtt://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"broker url {url!r} has no host")
        self.host: str = parts.hostname
        self.port: int = parts.port or 1883
        self.username: str | None = unquote(parts.username) if parts.username else None
        self.password: str | None = unquote(parts.password) if parts.password else None

    def __repr__(self) -> str:
        return f"BrokerAddress({self.host}:{self.port})"


class DeviceRate(BaseModel):
    """A token bucket: ``per_s`` messages a second sustained, ``burst`` at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_s: float = Field(gt=0, description="sustained messages per second")
    burst: int = Field(ge=1, description="messages let through at once after a quiet spell")


class DeviceRateLimits(BaseModel):
    """Per-device rate limits at the gateway (DESIGN §8): one device's flood must not delay
    every other home's call buttons. Rates are per device, in the service clock's seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: DeviceRate = Field(
        DeviceRate(per_s=2, burst=30),
        description="any kind not listed: motion, door, bed, climate… send far less than this",
    )
    per_kind: dict[str, DeviceRate] = Field(
        {"pendant": DeviceRate(per_s=20, burst=100), "hub": DeviceRate(per_s=10, burst=100)},
        description="registry device kind -> its bucket (pendants batch accelerometer samples)",
    )
    life_safety_kinds: frozenset[str] = Field(
        frozenset({"call_button", "pendant", "smoke", "gas", "water_leak"}),
        description="kinds whose messages over the limit are still read, so that a call, "
        "fall, smoke, gas or water event is never dropped",
    )
    report_s: float = Field(
        60.0, gt=0, description="one quarantine summary per limited device per this many seconds"
    )
    max_devices: int = Field(
        200_000, ge=1, description="buckets kept (least recently used go first)"
    )

    def for_kind(self, kind: str | None) -> DeviceRate:
        return self.per_kind.get(kind or "", self.default)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ELDERCARE_", env_file=".env", extra="forbid", validate_default=True
    )

    environment: Environment = Field(Environment.DEV, description="demo, dev or production")
    broker_url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://[user:pass@]host:port")
    mqtt_username: str | None = Field(None, description="overrides the user in broker_url")
    mqtt_password: SecretStr | None = Field(
        None, description="overrides the password in broker_url"
    )
    topic_prefix: str = Field(DEFAULT_PREFIX, pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    data_dir: Path = Field(Path("./data"), description="SQLite file, spools, checkpoints")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; default: SQLite file in data_dir"
    )
    http_host: str = Field("127.0.0.1", description="dashboard bind address")
    http_port: int = Field(8080, ge=0, le=65535)
    trusted_proxies: list[str] = Field(
        [],
        description="addresses (or CIDR networks) of the reverse proxies whose X-Forwarded-For"
        " names the client; empty: the header is ignored and the peer is the client",
    )
    metrics_host: str = Field("127.0.0.1", description="Prometheus /metrics bind address")
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Prometheus /metrics port of every service in the process; unset: none "
        "(two services on one host would otherwise fight over one default port)",
    )
    secret_key: SecretStr | None = Field(None, description="HMAC key for signed links/sessions")
    max_payload_bytes: int = Field(65536, gt=0, description="larger payloads are quarantined")
    zigbee_base_topic: str = Field(
        "zigbee2mqtt",
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        description="zigbee2mqtt's base_topic; the gateway adapts what is published below it",
    )
    device_rate_limits: DeviceRateLimits = Field(
        default_factory=DeviceRateLimits,
        description="gateway per-device rate limits (JSON in ELDERCARE_DEVICE_RATE_LIMITS)",
    )
    device_mappings: Path | None = Field(
        None, description="YAML with generic JSON mappings per device model (gateway)"
    )
    log_level: str = Field("INFO")
    log_json: bool = Field(True, description="one JSON object per line; false for a console")
    influx_url: str | None = Field(
        None, description="InfluxDB 2 (or VictoriaMetrics) base URL; unset: no time series"
    )
    influx_token: SecretStr | None = Field(None, description="InfluxDB API token (write access)")
    influx_org: str = Field("eldercare", description="InfluxDB organisation")
    influx_bucket: str = Field("eldercare", description="InfluxDB bucket (its retention applies)")
    series_spool_dir: Path | None = Field(
        None, description="where unwritten points wait during an outage; default data_dir/spool"
    )
    series_spool_max_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="spool bound; beyond it the OLDEST points are dropped"
    )
    public_url: str = Field(
        "http://127.0.0.1:8080", description="base URL of the dashboard, for links in messages"
    )
    policies_dir: Path | None = Field(
        None, description="escalation policy YAML folder; default: the built-in policy"
    )
    routines_dir: Path | None = Field(
        None, description="per-home routine YAML (<home>.yaml: wake_by, expect); default: none"
    )
    ack_link_ttl_s: int = Field(86400, gt=0, description="how long an ack link stays valid")
    watched_services: list[str] = Field(
        ["eldercare-gateway", "eldercare-detector"],
        description="services whose silence raises a system alert",
    )
    shard_count: int = Field(
        DEFAULT_SHARD_COUNT,
        ge=1,
        le=4096,
        description="shards homes are hashed into (topic level, leases); never change it live",
    )
    replicas: bool = Field(
        False,
        description="run detector and alerting as one of several instances: shards and the "
        "alerting intake are owned through leases in the database (docs/scale-out.md)",
    )
    instance_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="this instance's lease owner name; default: the host name (a restarted "
        "container keeps it, so it takes its own leases back at once)",
    )
    lease_ttl_s: float = Field(
        15.0, gt=0, description="a lease lapses this many seconds after its last renewal"
    )
    heartbeat_s: float = Field(
        30.0, gt=0, description="wall seconds between service heartbeats on _system/…/heartbeat"
    )
    clock_speed: float = Field(
        1.0, gt=0, description="run time this many times faster (demos, crash tests)"
    )
    clock_anchor: datetime | None = Field(
        None, description="wall-clock instant from which clock_speed applies (aware)"
    )

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("ELDERCARE_SECRET_KEY", self.secret_key),
                    ("ELDERCARE_DATABASE_URL", self.database_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)} to be set")
            if self.secret_key and len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("ELDERCARE_SECRET_KEY must be at least 32 characters")
            if self.influx_url and not self.influx_token:
                raise ValueError("ELDERCARE_INFLUX_URL needs ELDERCARE_INFLUX_TOKEN in production")
        BrokerAddress(self.broker_url)  # fail at start-up, not at first connect
        if self.clock_speed != 1.0 and self.environment is Environment.PRODUCTION:
            raise ValueError("ELDERCARE_CLOCK_SPEED is for demos and tests, not production")
        if self.clock_anchor is not None and self.clock_anchor.tzinfo is None:
            raise ValueError("ELDERCARE_CLOCK_ANCHOR must carry a timezone")
        return self

    def clock(self) -> Clock:
        """The wall clock, or a sped-up one when ``clock_speed`` is set."""
        if self.clock_speed == 1.0:
            return RealClock()
        return ScaledClock(self.clock_anchor or datetime.now(UTC), self.clock_speed)

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix, self.shard_count)

    @property
    def broker(self) -> BrokerAddress:
        address = BrokerAddress(self.broker_url)
        if self.mqtt_username:
            address.username = self.mqtt_username
        if self.mqtt_password:
            address.password = self.mqtt_password.get_secret_value()
        return address

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'eldercare.db').resolve()}"

    def instance_name(self) -> str:
        """This instance among replicas (lease owner): configured, or the host name. Stable
        across a restart of the same container, so it takes its own leases back at once."""
        return self.instance_id or socket.gethostname()[:64]

    def spool_dir(self, service: str) -> Path:
        """One spool per service (per instance among replicas, which may share a volume):
        two writers never share (and reorder) one spool."""
        folder = f"{service}-{self.instance_name()}" if self.replicas else service
        return (self.series_spool_dir or self.data_dir / "spool") / folder

    def signing_key(self) -> bytes:
        """The HMAC key; outside production a missing key becomes a per-process random one."""
        if self.secret_key:
            return self.secret_key.get_secret_value().encode()
        if not hasattr(self, "_ephemeral_key"):
            object.__setattr__(self, "_ephemeral_key", secrets.token_bytes(32))
        return self._ephemeral_key  # type: ignore[attr-defined, no-any-return]

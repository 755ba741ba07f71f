"""Broker accounts and ACLs from the registry: a home's terminal can only speak for itself.

A home's credentials may publish its own devices' messages and read its own commands, and
nothing else: not another home's topics, not the normalised stream the detector trusts, not
the alerts. Services get their own accounts. The files are mosquitto's own formats
(``password_file`` with PBKDF2-SHA512 ``$7$`` hashes, ``acl_file``), rebuilt from the
database whenever the registry changes; only hashes are stored, never passwords.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from eldercare.db.models import DeviceRow, HomeRow, MqttCredentialRow
from eldercare.topics import (
    QUARANTINE,
    Channel,
    Topics,
    dashboard_client_ids,
    shard_client_id,
)
from gateway.adapters import zigbee2mqtt
from gateway.registry import Registry

#: mosquitto_passwd's defaults (mosquitto 2.0): 12 bytes of salt, 101 PBKDF2 rounds.
PBKDF2_ROUNDS = 101
SALT_BYTES = 12
#: Service accounts start with '_' so no home id (which never does) can collide with one.
SERVICES = ("gateway", "detector", "alerting", "dashboard")
#: The broker container's own healthcheck: it reads the broker's uptime, nothing else.
HEALTHCHECK = "healthcheck"
HOME_PUBLISH = (Channel.EVENT, Channel.TELEMETRY, Channel.STATUS)


def service_username(service: str) -> str:
    return f"_{service}"


def hash_password(password: str, *, salt: bytes | None = None, rounds: int = PBKDF2_ROUNDS) -> str:
    """A mosquitto ``$7$`` hash (what ``mosquitto_passwd`` writes), without the binary."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds)
    return f"$7${rounds}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(password: str, hashed: str) -> bool:
    _, version, rounds, salt, digest = hashed.split("$")
    if version != "7":
        return False
    expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(rounds))
    return hmac.compare_digest(expected, base64.b64decode(digest))


@dataclass(frozen=True, slots=True)
class AclRule:
    access: str  # read | write | readwrite
    topic: str


def home_rules(
    topics: Topics, home: str, zigbee_names: Iterable[str], zigbee_base: str
) -> list[AclRule]:
    """A terminal publishes its devices' channels and reads its commands; nothing more."""
    rules = [AclRule("write", f"{topics.prefix}/{home}/+/{channel}") for channel in HOME_PUBLISH]
    rules.append(AclRule("read", f"{topics.prefix}/{home}/+/{Channel.CMD}"))
    for name in sorted(zigbee_names):
        rules.append(AclRule("write", f"{zigbee_base}/{name}"))
        rules.append(AclRule("write", f"{zigbee_base}/{name}/availability"))
        if name.endswith(f"/{zigbee2mqtt.BRIDGE}"):
            # A home's own zigbee2mqtt: its retained state and last will, nothing else of it.
            rules.append(AclRule("write", f"{zigbee_base}/{name}/state"))
    return rules


#: Each service's MQTT client ids (as in its ``MqttConnection``): a connection announces
#: itself on ``_system/<client id>/status`` and ``…/heartbeat`` and sets its dead letters
#: aside on ``_deadletter/<client id>``, so an account may write those for its own ids only.
#: A dashboard's id carries its HTTP port (several may run on one host).
SERVICE_CLIENT_IDS = {
    # The "-lane" sessions are the life-safety lanes (gateway/, detector/, alerting/service.py).
    "gateway": ("eldercare-gateway", "eldercare-gateway-lane"),
    "detector": ("eldercare-detector", "eldercare-detector-lane"),
    "alerting": ("eldercare-alerting", "eldercare-alerting-lane", "eldercare-alerting-inputs"),
}
DEFAULT_DASHBOARD_PORTS = (8080,)


def service_client_ids(
    service: str, dashboard_ports: Iterable[int], shard_count: int
) -> tuple[str, ...]:
    if service == "dashboard":
        return tuple(
            client_id
            for port in sorted(set(dashboard_ports))
            for client_id in dashboard_client_ids(port)
        )
    ids = SERVICE_CLIENT_IDS[service]
    if service == "detector":  # replicas: one session (and one lane) per shard
        ids += tuple(shard_client_id(base, n) for base in ids for n in range(shard_count))
    return ids


def _own_rules(topics: Topics, client_ids: Iterable[str]) -> list[AclRule]:
    """Presence (read back by the container healthcheck), heartbeats and dead letters."""
    rules = []
    for client_id in client_ids:
        rules.append(AclRule("readwrite", topics.service_status(client_id)))
        rules.append(AclRule("write", topics.service_heartbeat(client_id)))
        rules.append(AclRule("write", topics.dead_letters(client_id)))
    return rules


def service_rules(
    topics: Topics,
    service: str,
    zigbee_base: str,
    dashboard_ports: Iterable[int] = DEFAULT_DASHBOARD_PORTS,
) -> list[AclRule]:
    """Least privilege: each service reads what it subscribes to and writes what it publishes
    (``grep MqttConnection``, ``Outgoing(``), nothing more, so a compromised dashboard cannot
    inject normalised events or alerts, nor a compromised gateway raise or resolve alerts."""
    prefix = topics.prefix
    updates = topics.all_updates_filter
    normalised = (Channel.EVENT, Channel.TELEMETRY, Channel.STATUS)
    if service == HEALTHCHECK:
        return [AclRule("read", "$SYS/broker/uptime")]
    own = _own_rules(topics, service_client_ids(service, dashboard_ports, topics.shard_count))
    if service == "gateway":
        return [
            *(AclRule("read", topics.raw_device_filter(channel)) for channel in HOME_PUBLISH),
            AclRule("read", f"{zigbee_base}/#"),
            AclRule("write", topics.normalised_filter(Channel.EVENT)),
            AclRule("write", topics.normalised_filter(Channel.TELEMETRY)),
            # Its own statuses, read back at start (``Gateway.restore_statuses``).
            AclRule("readwrite", topics.normalised_filter(Channel.STATUS)),
            AclRule("write", topics.life_safety_filter),  # the detector's lane
            AclRule("write", f"{prefix}/{QUARANTINE}/#"),
            AclRule("write", topics.registration),
            *own,
        ]
    if service == "detector":
        return [
            *(AclRule("read", topics.normalised_filter(channel)) for channel in normalised),
            AclRule("read", topics.life_safety_filter),  # its lane session
            AclRule("read", updates),  # the staff's verdicts teach the inactivity model
            AclRule("write", topics.all_alerts_filter),
            AclRule("write", topics.all_daily_summaries_filter),  # each home's day
            *own,
        ]
    if service == "alerting":
        return [
            AclRule("read", topics.all_alerts_filter),
            AclRule("readwrite", updates),
            AclRule("read", topics.all_service_status_filter),
            AclRule("read", topics.all_service_heartbeat_filter),
            AclRule("read", topics.all_dead_letters_filter),
            AclRule("read", topics.all_daily_summaries_filter),  # stored, then trends
            # The witnesses of the gateway's and the detector's input (``alerting/stalls.py``).
            AclRule("read", topics.raw_device_filter(Channel.EVENT)),
            AclRule("read", topics.normalised_filter(Channel.EVENT)),
            AclRule("write", f"{prefix}/{QUARANTINE}/#"),  # unreadable alerts
            AclRule("write", topics.raw_device_filter(Channel.CMD)),  # "help is coming"
            *own,
        ]
    if service == "dashboard":
        return [
            AclRule("readwrite", updates),  # staff acknowledge over MQTT
            AclRule("read", topics.normalised_filter(Channel.STATUS)),  # homes overview
            AclRule("read", topics.normalised_filter(Channel.EVENT)),  # activity
            *own,
        ]
    raise ValueError(f"unknown service {service!r}")


def acl_text(accounts: Mapping[str, Sequence[AclRule]]) -> str:
    lines = ["# Generated by `eldercare homes mqtt-auth` from the registry; do not edit."]
    for username in sorted(accounts):
        lines.append("")
        lines.append(f"user {username}")
        lines.extend(f"topic {rule.access} {rule.topic}" for rule in accounts[username])
    return "\n".join(lines) + "\n"


def passwd_text(hashes: Mapping[str, str]) -> str:
    return "".join(f"{username}:{hashed}\n" for username, hashed in sorted(hashes.items()))


@dataclass(frozen=True, slots=True)
class BrokerAccounts:
    """Everything the broker needs to know about who may do what."""

    hashes: dict[str, str]
    rules: dict[str, list[AclRule]]
    #: Passwords created by this run (username → password): hand them to installers once.
    new_passwords: dict[str, str]


async def broker_accounts(
    registry: Registry,
    topics: Topics,
    *,
    zigbee_base: str = "zigbee2mqtt",
    rotate: Iterable[str] = (),
    dashboard_ports: Iterable[int] = DEFAULT_DASHBOARD_PORTS,
) -> BrokerAccounts:
    """Give every home and service an account (a new or rotated one gets a random password,
    stored only as its hash) and derive each account's ACL from the registry."""
    rotate = set(rotate)
    sessions = async_sessionmaker(registry.engine, expire_on_commit=False)
    new_passwords: dict[str, str] = {}
    async with sessions.begin() as session:
        homes = list(await session.scalars(select(HomeRow.id)))
        names: dict[str, list[str]] = {home: [] for home in homes}
        for home, name in await session.execute(
            select(DeviceRow.home_id, DeviceRow.zigbee_name).where(
                DeviceRow.zigbee_name.is_not(None)
            )
        ):
            names[home].append(name)
        existing = {row.username: row for row in await session.scalars(select(MqttCredentialRow))}
        wanted = {home: ("home", home) for home in homes} | {
            service_username(s): ("service", None) for s in (*SERVICES, HEALTHCHECK)
        }
        for username, (role, home) in wanted.items():
            row = existing.get(username)
            if row is not None and username not in rotate:
                continue
            password = secrets.token_urlsafe(24)
            new_passwords[username] = password
            if row is None:
                row = MqttCredentialRow(username=username, created_at=registry.clock.now())
                session.add(row)
            row.role, row.home_id, row.password_hash = role, home, hash_password(password)
            existing[username] = row
        hashes = {username: existing[username].password_hash for username in wanted}
    rules = {home: home_rules(topics, home, names[home], zigbee_base) for home in homes} | {
        service_username(s): service_rules(topics, s, zigbee_base, dashboard_ports)
        for s in (*SERVICES, HEALTHCHECK)
    }
    return BrokerAccounts(hashes, rules, new_passwords)


@dataclass(frozen=True, slots=True)
class AuthFiles:
    password_file: Path
    acl_file: Path
    credentials_file: Path | None


def write_auth_files(accounts: BrokerAccounts, out: Path) -> AuthFiles:
    """Write ``passwd`` and ``acl`` for mosquitto; new passwords go to
    ``new-credentials.txt`` (mode 600), the only place they ever exist in clear."""
    out.mkdir(parents=True, exist_ok=True)
    password_file, acl_file = out / "passwd", out / "acl"
    _write_private(password_file, passwd_text(accounts.hashes))
    acl_file.write_text(acl_text(accounts.rules))
    credentials_file = None
    if accounts.new_passwords:
        credentials_file = out / "new-credentials.txt"
        _write_private(
            credentials_file,
            "".join(f"{user} {pw}\n" for user, pw in sorted(accounts.new_passwords.items())),
        )
    return AuthFiles(password_file, acl_file, credentials_file)


def _write_private(path: Path, text: str) -> None:
    """Password material is readable by its owner only, from the first byte on."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)

"""Generated password and ACL files, enforced by a real mosquitto.

A home's terminal credentials must not reach another home's topics, the normalised stream
or the alerts; anonymous clients are refused; and the gateway, on its own service account,
still turns a home's zigbee2mqtt message into a normalised event, and reads back its own
retained statuses at start, which a home cannot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from eldercare.broker import LocalMosquitto
from eldercare.bus import Outgoing, read_retained
from eldercare.clock import RealClock
from eldercare.db import create_engine, migrate
from eldercare.models import HOME_GATEWAY_DEVICE, BatteryHealth, DeviceState, DeviceStatus
from eldercare.settings import Settings
from eldercare.topics import Topics
from gateway.mqtt_auth import (
    BrokerAccounts,
    broker_accounts,
    check_password,
    hash_password,
    write_auth_files,
)
from gateway.registry import Registry
from gateway.service import Gateway
from gateway.service import run as run_gateway
from gateway.specs import parse_yaml
from tests.broker_auth_support import SPY, broker_url, client, received_until, with_spy

pytestmark = pytest.mark.integration

P = "eldercare/v1"
HOMES = """
homes:
  - id: h-a
    devices:
      - {id: btn, kind: call_button}
      - {id: pir, kind: motion, model: RTCGQ11LM, zigbee_name: h-a/pir}
      - {id: zigbee, kind: hub, zigbee_name: h-a/bridge}
  - id: h-b
    devices:
      - {id: btn, kind: call_button}
      - {id: door, kind: door, zigbee_name: h-b/door}
"""


def test_hash_is_what_mosquitto_passwd_writes() -> None:
    salt = bytes(range(12))
    hashed = hash_password("secret", salt=salt)
    assert hashed.startswith("$7$101$AAECAwQFBgcICQoL$")
    assert check_password("secret", hashed) and not check_password("Secret", hashed)


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    await migrate(engine)
    registry = Registry(engine, RealClock())
    await registry.apply(parse_yaml(HOMES))
    try:
        yield registry
    finally:
        await engine.dispose()


@pytest.fixture
async def accounts(registry: Registry) -> BrokerAccounts:
    return with_spy(await broker_accounts(registry, Topics()))


@pytest.fixture
def broker(accounts: BrokerAccounts, tmp_path: Path) -> AsyncIterator[LocalMosquitto]:
    files = write_auth_files(accounts, tmp_path / "auth")
    with LocalMosquitto(password_file=files.password_file, acl_file=files.acl_file) as broker:
        yield broker


async def test_anonymous_and_wrong_passwords_are_refused(
    broker: LocalMosquitto, accounts: BrokerAccounts
) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client("127.0.0.1", broker.port):
            pass
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client("127.0.0.1", broker.port, username="h-a", password="guess"):
            pass


async def test_a_home_cannot_publish_for_another_home(
    broker: LocalMosquitto, accounts: BrokerAccounts
) -> None:
    async with (
        client(broker, accounts, SPY) as detector,
        client(broker, accounts, "_gateway") as gateway,
        client(broker, accounts, "h-a") as home_a,
    ):
        await detector.subscribe(f"{P}/#", qos=1)
        await gateway.subscribe("zigbee2mqtt/#", qos=1)
        forged = [
            f"{P}/h-b/btn/event",  # another home's device
            f"{P}/h-b/btn/status",
            f"{P}/_normalised/01/h-b/btn/event",  # the stream the detector trusts
            f"{P}/_normalised/11/h-a/btn/event",  # even for itself
            f"{P}/h-b/alerts",  # alerts
            f"{P}/alerts/x/updates",
            f"{P}/h-a/btn/cmd",  # commands come from services only
        ]
        for topic in forged:
            await home_a.publish(topic, b'{"forged": true}', qos=1)
        await home_a.publish("zigbee2mqtt/h-b/door", b'{"contact": false}', qos=1)
        await home_a.publish("zigbee2mqtt/h-b/bridge/state", b'{"state": "offline"}', qos=1)
        await home_a.publish("zigbee2mqtt/bridge/request/permit_join", b"true", qos=1)
        await home_a.publish(f"{P}/h-a/btn/event", b'{"own": true}', qos=1)
        await home_a.publish("zigbee2mqtt/h-a/pir", b'{"occupancy": true}', qos=1)
        await home_a.publish(f"{P}/h-a/pir/telemetry", b"sentinel", qos=1)

        at_detector = await received_until(detector, f"{P}/h-a/pir/telemetry")
        at_gateway = await received_until(gateway, "zigbee2mqtt/h-a/pir")

    detector_topics = {topic for topic, _ in at_detector}
    assert f"{P}/h-a/btn/event" in detector_topics, "a home's own messages do arrive"
    assert not detector_topics & set(forged), detector_topics
    assert [topic for topic, _ in at_gateway] == ["zigbee2mqtt/h-a/pir"]


async def test_a_home_reads_only_its_own_commands(
    broker: LocalMosquitto, accounts: BrokerAccounts
) -> None:
    async with (
        client(broker, accounts, "_alerting") as service,
        client(broker, accounts, "h-a") as home_a,
    ):
        await home_a.subscribe(f"{P}/+/+/cmd", qos=1)
        await home_a.subscribe(f"{P}/#", qos=1)
        await service.publish(f"{P}/h-b/btn/cmd", b"not yours", qos=1)
        await service.publish(f"{P}/h-b/btn/event", b"not yours either", qos=1)
        await service.publish(f"{P}/h-a/btn/cmd", b"yours", qos=1)
        seen = await received_until(home_a, f"{P}/h-a/btn/cmd")
    assert seen == [(f"{P}/h-a/btn/cmd", b"yours")]


async def test_gateway_on_its_service_account_normalises_a_homes_zigbee_message(
    broker: LocalMosquitto, accounts: BrokerAccounts, registry: Registry, tmp_path: Path
) -> None:
    password = accounts.new_passwords["_gateway"]
    settings = Settings(
        broker_url=f"mqtt://_gateway:{password}@127.0.0.1:{broker.port}",
        data_dir=tmp_path,
        log_level="WARNING",
    )
    async with client(broker, accounts, SPY) as detector:
        await detector.subscribe(f"{P}/_system/+/status", qos=1)
        await detector.subscribe(f"{P}/_normalised/#", qos=1)
        task = asyncio.create_task(run_gateway(settings, RealClock(), registry.engine))
        try:
            async with asyncio.timeout(10):
                async for message in detector.messages:
                    # The main session's, not the lane's (online while statuses are read).
                    main = message.topic.value == f"{P}/_system/eldercare-gateway/status"
                    if main and json.loads(message.payload).get("state") == "online":  # type: ignore[arg-type]
                        break
            async with client(broker, accounts, "h-a") as home_a:
                await home_a.publish("zigbee2mqtt/h-a/pir", b'{"occupancy":true,"battery":91}')
            async with asyncio.timeout(5):
                async for message in detector.messages:
                    if message.topic.value.endswith("/event"):
                        event = json.loads(message.payload)  # type: ignore[arg-type]
                        break
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert message.topic.value == f"{P}/_normalised/11/h-a/pir/event"
    assert (event["home"], event["device"], event["type"]) == ("h-a", "pir", "motion")


async def test_gateway_reads_back_its_own_statuses_and_a_home_cannot(
    broker: LocalMosquitto, accounts: BrokerAccounts, registry: Registry
) -> None:
    topics = Topics()
    status = DeviceStatus(
        home="h-a", device="btn", state=DeviceState.ONLINE, battery=BatteryHealth.OK
    )
    async with client(broker, accounts, "_gateway") as before_restart:
        await before_restart.publish(
            topics.normalised("h-a", "btn", "status"), status.to_json(), qos=1, retain=True
        )
    gateway = Gateway(Settings(broker_url=broker_url(broker, accounts, "_gateway")), RealClock())
    gateway.set_registry((await registry.versioned_snapshot())[1])
    published: list[Outgoing] = []

    async def publish(message: Outgoing) -> None:
        published.append(message)

    await gateway.restore_statuses(publish)
    assert gateway.restored == {"restored": 1}
    assert [message.topic for message in published] == [
        topics.normalised("h-a", HOME_GATEWAY_DEVICE, "status")
    ]
    at_home: list[str] = []
    await read_retained(
        Settings(broker_url=broker_url(broker, accounts, "h-a")),
        "h-a-reader",
        topics.normalised_filter("status"),
        lambda topic, _: at_home.append(topic),
        quiet_s=0.3,
    )
    assert at_home == []


#: A home's zigbee2mqtt as its own process: its last will on its bridge state, as
#: zigbee2mqtt sets it when run with ``base_topic: zigbee2mqtt/h-a``.
BRIDGE_PROCESS = """
import sys, time
import paho.mqtt.client as mqtt
port, password = int(sys.argv[1]), sys.argv[2]
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="zigbee2mqtt-h-a")
client.username_pw_set("h-a", password)
client.will_set("zigbee2mqtt/h-a/bridge/state", '{"state": "offline"}', qos=1, retain=True)
client.connect("127.0.0.1", port, keepalive=30)
client.loop_start()
client.publish("zigbee2mqtt/h-a/bridge/state", '{"state": "online"}', qos=1, retain=True)
time.sleep(60)
"""


async def test_a_homes_zigbee2mqtt_cut_off_takes_the_home_offline_at_once(
    broker: LocalMosquitto, accounts: BrokerAccounts, registry: Registry, tmp_path: Path
) -> None:
    """The home's zigbee2mqtt, registered as its hub (``h-a/bridge``), is killed: its last
    will reaches the gateway through the ACL and the home goes offline in seconds, where
    its devices' own deadlines would have taken two hours."""
    password = accounts.new_passwords["_gateway"]
    settings = Settings(
        broker_url=f"mqtt://_gateway:{password}@127.0.0.1:{broker.port}",
        data_dir=tmp_path,
        log_level="WARNING",
    )
    home_status = f"{P}/_normalised/11/h-a/{HOME_GATEWAY_DEVICE}/status"
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BRIDGE_PROCESS, str(broker.port), accounts.new_passwords["h-a"]
    )
    states: list[str] = []
    async with client(broker, accounts, SPY) as spy:
        await spy.subscribe(home_status, qos=1)
        task = asyncio.create_task(run_gateway(settings, RealClock(), registry.engine))
        try:
            async with asyncio.timeout(15):
                async for message in spy.messages:
                    states.append(json.loads(message.payload)["state"])  # type: ignore[arg-type]
                    if states[-1] == "online" and bridge.returncode is None:
                        bridge.kill()  # the home's box loses power
                        await bridge.wait()
                    elif states[-1] == "offline":
                        reason = json.loads(message.payload)["reason"]  # type: ignore[arg-type]
                        break
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if bridge.returncode is None:
                bridge.kill()
    assert states[-2:] == ["online", "offline"], states
    assert reason == "hub: zigbee offline"

"""The container healthcheck reads a service's retained presence from a real broker."""

from __future__ import annotations

import aiomqtt
import pytest

from eldercare.broker import free_port
from eldercare.healthcheck import http_ok, service_online
from eldercare.models import DeviceState, ServiceStatus
from eldercare.settings import Settings

pytestmark = pytest.mark.integration


async def test_presence_online_offline_and_unknown(mosquitto, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(broker_url=mosquitto.url, data_dir=tmp_path)
    topic = settings.topics.service_status("eldercare-gateway")
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        online = ServiceStatus(service="eldercare-gateway", state=DeviceState.ONLINE)
        await client.publish(topic, online.to_json(), qos=1, retain=True)
        assert await service_online(settings, "eldercare-gateway")
        offline = ServiceStatus(service="eldercare-gateway", state=DeviceState.OFFLINE)
        await client.publish(topic, offline.to_json(), qos=1, retain=True)
        assert not await service_online(settings, "eldercare-gateway")
    assert not await service_online(settings, "eldercare-detector", wait_s=0.3)


def test_http_check_refuses_a_closed_port() -> None:

    assert not http_ok(f"http://127.0.0.1:{free_port()}/healthz", timeout=1)

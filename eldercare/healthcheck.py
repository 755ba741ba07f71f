"""Container healthcheck: is this service connected and subscribed?

``python -m eldercare.healthcheck eldercare-gateway`` exits 0 when the service's retained
presence on ``{prefix}/_system/<id>/status`` says ``online``, 1 otherwise. Presence is
the right signal: a service publishes ``online`` only after subscribing, and the broker
replaces it by the ``offline`` last will the moment the connection dies, so a service
that lost the broker turns unhealthy even while its process still runs.
``python -m eldercare.healthcheck http://127.0.0.1:8080/healthz`` checks a web service.
"""

from __future__ import annotations

import asyncio
import sys
import urllib.request

import aiomqtt
from pydantic import ValidationError

from eldercare.models import DeviceState, ServiceStatus
from eldercare.settings import Settings


async def service_online(settings: Settings, service: str, wait_s: float = 5.0) -> bool:
    """True when the retained presence of ``service`` is ``online`` (None seen: False)."""
    broker = settings.broker
    async with aiomqtt.Client(
        broker.host, broker.port, username=broker.username, password=broker.password
    ) as client:
        await client.subscribe(settings.topics.service_status(service))
        try:
            async with asyncio.timeout(wait_s):
                async for message in client.messages:
                    status = ServiceStatus.model_validate_json(message.payload)  # type: ignore[arg-type]
                    return status.state is DeviceState.ONLINE
        except (TimeoutError, ValidationError):
            return False
    return False


def http_ok(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m eldercare.healthcheck SERVICE_ID|http://…/healthz", file=sys.stderr)
        return 2
    target = argv[0]
    if target.startswith(("http://", "https://")):
        return 0 if http_ok(target) else 1
    try:
        online = asyncio.run(service_online(Settings(), target))
    except aiomqtt.MqttError as error:
        print(f"broker unreachable: {error}", file=sys.stderr)
        return 1
    return 0 if online else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

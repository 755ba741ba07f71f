"""What the harness watches while the run goes on: the alert wall and the side channels.

The wall is the dashboard's SSE stream, read as a logged-in station screen would, and
reconnected whenever the dashboard is killed. Quarantine and dead-letter records are read
from their MQTT topics; each record is told apart by its topic and payload, so a record the
gateway publishes twice (redelivered after a kill) counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict

import aiomqtt
import httpx

from chaos.invariants import Sighting
from eldercare.models import QuarantineRecord
from eldercare.topics import QUARANTINE, Topics

RETRY_S = 0.5
DEAD_LETTER = "_deadletter"  # the dead-letter topic being added on another branch (issue 19 #3)


class Wall:
    """Alert frames seen on the dashboard's stream, with their arrival time."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url, self.username, self.password = base_url, username, password
        self.sightings: list[Sighting] = []
        self.connected = asyncio.Event()

    async def watch(self) -> None:
        """Until cancelled: log in, read the stream, reconnect after any failure."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    await self._read(client)
                self.connected.clear()
                await asyncio.sleep(RETRY_S)

    async def _read(self, client: httpx.AsyncClient) -> None:
        if "authorization" not in client.headers:
            login = await client.post(
                "/api/session", json={"username": self.username, "password": self.password}
            )
            login.raise_for_status()
            client.headers["authorization"] = f"Bearer {login.json()['token']}"
        async with client.stream("GET", "/api/alerts/stream", timeout=None) as response:
            response.raise_for_status()
            event = None
            async for line in response.aiter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "alert":
                    alert = json.loads(line.removeprefix("data:"))["alert"]
                    self.sightings.append(
                        Sighting(alert["home"], alert["kind"], alert["alert_id"], time.monotonic())
                    )


class SideChannels:
    """Quarantine records by (home, reason kind) and dead-letter records, deduplicated."""

    def __init__(self, port: int, topics: Topics) -> None:
        self.port, self.topics = port, topics
        self.quarantined: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.dead_letters: set[bytes] = set()

    async def watch(self) -> None:
        prefix = self.topics.prefix
        while True:
            try:
                # A persistent session: records published while we reconnect (a broker
                # restart) are queued for us, not missed.
                async with aiomqtt.Client(
                    "127.0.0.1",
                    self.port,
                    timeout=5,
                    identifier="chaos-side-channels",
                    clean_session=False,
                ) as client:
                    await client.subscribe(f"{prefix}/{QUARANTINE}/#", qos=1)
                    await client.subscribe(f"{prefix}/{DEAD_LETTER}/#", qos=1)
                    async for message in client.messages:
                        self._record(str(message.topic), bytes(message.payload))  # type: ignore[arg-type]
            except aiomqtt.MqttError:
                await asyncio.sleep(RETRY_S)

    def _record(self, topic: str, payload: bytes) -> None:
        if f"/{DEAD_LETTER}/" in topic:
            self.dead_letters.add(topic.encode() + b"\n" + payload)
            return
        try:
            record = QuarantineRecord.model_validate_json(payload)
        except ValueError:
            return
        reason = record.reason.split(":", 1)[0]
        self.quarantined[(record.home or "", reason)].add(f"{record.topic}\n{record.payload_head}")

"""Where a call-button press spends its time, hop by hop (issue 18).

The bench measures a press from its publish to its frame on the dashboard's stream; that
says how long, not where. Each service's output reaches the broker before the next service
can read it, so a listener on the outputs' topics sees when each hop was done:

- ``gateway``: the press (published on the listener's own connection), normalised (the
  first of its ``_lifesafety`` and ``_normalised`` copies: the gateway's lane publishes
  both at once);
- ``detector``: the call-button alert on ``{prefix}/{home}/alerts``;
- ``alerting``: the alert's first lifecycle update (stored, escalation planned);
- ``dashboard``: the alert's frame on the wall's SSE stream (``chaos.observers.Wall``).

The listener is a paho client on a thread of its own, stamping arrivals there: the bench's
event loop is busy publishing the background load, and a stamp taken there would measure the
bench as much as the system. The topics it follows carry only the presses and the alerts,
so it adds next to nothing to the broker's work.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import paho.mqtt.client as mqtt

from eldercare.topics import LIFE_SAFETY, NORMALISED, Channel, Topics

HOPS = ("gateway", "detector", "alerting", "dashboard")


@dataclass(slots=True)
class PressTimes:
    """Monotonic seconds at which one press passed each hop (None: not seen)."""

    pressed: float
    hops: dict[str, float] = field(default_factory=dict)

    def spans(self) -> dict[str, float] | None:
        """Seconds spent in each hop (from the previous hop's output), if all were seen."""
        if any(hop not in self.hops for hop in HOPS):
            return None
        spans, before = {}, self.pressed
        for hop in HOPS:
            spans[hop] = self.hops[hop] - before
            before = self.hops[hop]
        return spans


class HopListener:
    """Stamps the first sighting per (hop, home) of a call-button press's outputs."""

    def __init__(self, port: int, topics: Topics, button: str) -> None:
        self.topics = topics
        prefix = topics.prefix
        self._filters = [
            (f"{prefix}/{LIFE_SAFETY}/+/+/{button}/{Channel.EVENT}", "gateway"),
            (f"{prefix}/{NORMALISED}/+/+/{button}/{Channel.EVENT}", "gateway"),
            (topics.all_alerts_filter, "detector"),
            (topics.all_updates_filter, "alerting"),
        ]
        self._port = port
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], float] = {}
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message

    def __enter__(self) -> Self:
        self._client.connect("127.0.0.1", self._port)
        subscribed = self._client.subscribe([(pattern, 1) for pattern, _ in self._filters])
        if subscribed[0] != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"hop listener could not subscribe: {subscribed}")
        self._client.loop_start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, _client: mqtt.Client, _data: object, message: mqtt.MQTTMessage) -> None:
        at = time.monotonic()
        hop = next(h for p, h in self._filters if mqtt.topic_matches_sub(p, message.topic))
        if hop == "gateway":
            home = message.topic.split("/")[-3]  # …/{shard}/{home}/{device}/event
        else:
            try:
                body = json.loads(message.payload)
            except ValueError:
                return
            if hop == "detector" and body.get("kind") != "call_button":
                return
            home = body.get("home")
            if not isinstance(home, str):
                return
        with self._lock:
            self._seen.setdefault((hop, home), at)

    def press(self, topic: str, payload: bytes) -> float:
        """Publish a call press on this client's connection and network thread; when
        (monotonic). A call button is a device of its own: on the load generator's client
        the press waited behind up to a batch of background publishes in the same queue,
        and behind the bench's own event loop, and that counted as the gateway's time."""
        pressed = time.monotonic()
        self._client.publish(topic, payload, qos=1)
        return pressed

    def seen(self, hop: str, home: str) -> float | None:
        with self._lock:
            return self._seen.get((hop, home))

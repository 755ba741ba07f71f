"""An in-process transport: MQTT topic routing without a broker, for replaying days fast.

Handlers have the same shape as on the bus (``(topic, payload) -> [Outgoing]``), so the
real gateway, detector and alerting handlers run unchanged; what they publish is routed
to whoever subscribed, breadth-first, as a broker would. Not a test double for MQTT
semantics (QoS, sessions, retained messages) — the integration tests cover those against
mosquitto — but the fastest honest way to run the decisions over a month of a home.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from paho.mqtt.client import topic_matches_sub

from eldercare.bus import Handler, Subscription


@dataclass
class InProcessBus:
    _subscriptions: list[tuple[str, Handler]] = field(default_factory=list)
    _taps: list[tuple[str, Callable[[str, bytes], None]]] = field(default_factory=list)
    _routes: dict[str, tuple[list[Handler], list[Callable[[str, bytes], None]]]] = field(
        default_factory=dict
    )
    published: int = 0

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._subscriptions.append((topic_filter, handler))
        self._routes.clear()

    def serve(self, subscriptions: Sequence[Subscription]) -> None:
        """Route to a service's declared subscriptions, as its MQTT session would."""
        for subscription in subscriptions:
            self.subscribe(subscription.topic_filter, subscription.handler)

    def tap(self, topic_filter: str, observer: Callable[[str, bytes], None]) -> None:
        """Watch messages without answering them (what a test client subscribed would see)."""
        self._taps.append((topic_filter, observer))
        self._routes.clear()

    def _route(self, topic: str) -> tuple[list[Handler], list[Callable[[str, bytes], None]]]:
        route = self._routes.get(topic)
        if route is None:
            route = self._routes[topic] = (
                [h for f, h in self._subscriptions if topic_matches_sub(f, topic)],
                [o for f, o in self._taps if topic_matches_sub(f, topic)],
            )
        return route

    async def publish(self, topic: str, payload: bytes) -> None:
        queue = deque([(topic, payload)])
        while queue:
            topic, payload = queue.popleft()
            self.published += 1
            handlers, observers = self._route(topic)
            for observer in observers:
                observer(topic, payload)
            for handler in handlers:
                for outgoing in await handler(topic, payload):
                    queue.append((outgoing.topic, outgoing.payload))

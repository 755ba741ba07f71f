"""Several queued MQTT packets written with one ``send``, not one ``send`` each.

paho writes its outgoing packets one system call per packet. A service acknowledges every
input (PUBACK) and publishes its outputs, so at 10 000 homes a ``send`` per packet was the
largest single item of the gateway's and the detector's CPU (19 % and 23 % in py-spy,
issue 18): on loopback the sender's system call also runs the receiver's TCP path. The
packets queued when the socket turns writable are joined into one buffer and written
together; their order, and so MQTT's, is unchanged.

Packets whose completion paho acts on when written (a QoS 0 publish: its ``on_publish``;
a DISCONNECT: the socket is closed) are only ever the *last* of a joined run, and the joined
packet carries their command, message id and ``info``, so paho completes them as before,
once the whole run is written. Everything else (PUBACK, QoS 1 publish, SUBSCRIBE…) needs
nothing when written: a QoS 1 publish completes on its PUBACK, a redelivery after a
reconnect is made afresh from paho's own message store, not from this queue.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import paho.mqtt.client as mqtt

_PUBLISH = int(mqtt.PUBLISH)
_DISCONNECT = int(mqtt.DISCONNECT)


def _ends_a_run(packet: dict[str, Any]) -> bool:
    """paho acts on this packet once written, so nothing may be joined after it."""
    command = packet["command"] & 0xF0
    return command == _DISCONNECT or (command == _PUBLISH and packet["qos"] == 0)


def join_queued(queue: deque[dict[str, Any]]) -> None:
    """Replace the queued packets by runs of them joined, each run ending at a packet paho
    acts on once written (or at the queue's end)."""
    if len(queue) < 2:
        return
    runs: list[dict[str, Any]] = []
    parts: list[bytes] = []
    count = 0
    while queue:
        packet = queue.popleft()
        parts.append(bytes(packet["packet"][packet["pos"] :]))
        count += 1
        if _ends_a_run(packet) or not queue:
            runs.append(packet if count == 1 else _joined(packet, parts))
            parts, count = [], 0
    queue.extend(runs)


def _joined(last: dict[str, Any], parts: list[bytes]) -> dict[str, Any]:
    """One packet of ``parts``' bytes that paho completes as it would ``last``."""
    data = b"".join(parts)
    return {**last, "pos": 0, "to_process": len(data), "packet": data}


def coalesce_writes(client: mqtt.Client) -> None:
    """Make ``client`` join its queued packets before each write (see the module's doc)."""
    write = client._packet_write

    def joined_write() -> mqtt.MQTTErrorCode:
        join_queued(client._out_packet)  # type: ignore[arg-type]
        return write()

    client._packet_write = joined_write  # type: ignore[method-assign]

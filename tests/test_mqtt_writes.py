"""Queued MQTT packets written together (``eldercare.mqtt_writes``): fewer ``send`` calls,
the same bytes in the same order, and paho still completes what it completes when written."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from eldercare.broker import LocalMosquitto
from eldercare.mqtt_writes import coalesce_writes, join_queued


def packet(command: int, data: bytes, qos: int = 1, mid: int = 0) -> dict[str, Any]:
    return {
        "command": command,
        "mid": mid,
        "qos": qos,
        "pos": 0,
        "to_process": len(data),
        "packet": data,
        "info": f"info-{mid}",
    }


def test_runs_end_where_paho_acts_on_a_written_packet() -> None:
    queue = deque(
        [
            {**packet(mqtt.PUBACK, b"ab"), "pos": 1},  # half written already
            packet(mqtt.PUBLISH, b"cd", qos=1, mid=7),
            packet(mqtt.PUBLISH, b"ef", qos=0, mid=8),  # its on_publish fires when written
            packet(mqtt.PUBACK, b"gh"),
            packet(mqtt.DISCONNECT, b"ij"),
            packet(mqtt.PUBACK, b"kl"),
        ]
    )
    join_queued(queue)  # type: ignore[arg-type]
    assert [p["packet"] for p in queue] == [b"bcdef", b"ghij", b"kl"]
    assert [(p["command"], p["qos"], p["mid"], p["info"]) for p in queue][:2] == [
        (mqtt.PUBLISH, 0, 8, "info-8"),
        (mqtt.DISCONNECT, 1, 0, "info-0"),
    ]
    assert all(p["pos"] == 0 and p["to_process"] == len(p["packet"]) for p in queue)


@pytest.mark.integration
def test_a_burst_goes_out_in_one_send_in_order_and_every_publish_completes() -> None:
    """As the services run paho (aiomqtt): packets queue until the socket is writable."""
    count = 300
    with LocalMosquitto() as broker:
        got: list[bytes] = []
        reader = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        reader.on_message = lambda _c, _u, message: got.append(message.payload)
        reader.connect("127.0.0.1", broker.port)
        reader.subscribe("w", qos=0)  # delivered as sent: no in-flight window reorders
        reader.loop_start()
        writer = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        writer.max_inflight_messages_set(0)  # no limit: the whole burst is queued at once
        writer.on_socket_register_write = lambda _c, _u, _s: None  # an outside event loop
        coalesce_writes(writer)
        sends: list[int] = []
        send = writer._sock_send

        def counted(data: bytes) -> int:
            sends.append(len(data))
            return send(data)

        writer._sock_send = counted  # type: ignore[method-assign]
        try:
            writer.connect("127.0.0.1", broker.port)
            writer.loop_write()
            until(lambda: writer.loop(0.05) == 0 and writer.is_connected())
            sends.clear()
            infos = [writer.publish("w", str(n).encode(), qos=1) for n in range(count)]
            infos.append(writer.publish("w", str(count).encode(), qos=0))
            writer.loop_write()
            assert len(sends) == 1, sends
            until(lambda: writer.loop(0.05) == 0 and all(i.is_published() for i in infos))
            until(lambda: len(got) == count + 1)
        finally:
            reader.loop_stop()
        assert got == [str(n).encode() for n in range(count + 1)]


def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.01)

"""One device flooding QoS 1 events, in its own process so it floods whatever the test does.

``python -m tests.flood_publisher PORT TOPIC_PREFIX HOME DEVICE RATE SECONDS`` publishes
RATE valid motion events a second for SECONDS (RATE 0: as fast as it can, for SECONDS),
waits for every PUBACK, and prints how many the broker took as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

#: Publishes in flight at once: a pipelined client, like the flood measured in issue 19.
IN_FLIGHT = 200
PACE_EVERY = 20


def motion(home: str, device: str, seq: int) -> bytes:
    """A valid motion event, made without the model: the flood must be as fast as can be."""
    ts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return (
        f'{{"schema":1,"home":"{home}","device":"{device}","seq":{seq},'
        f'"ts":"{ts}","type":"motion","value":{{}}}}'
    ).encode()


def flood(port: int, prefix: str, home: str, device: str, rate: float, seconds: float) -> int:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"flood-{home}-{device}")
    client.max_inflight_messages_set(IN_FLIGHT)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    topic = f"{prefix}/{home}/{device}/event"
    started = time.monotonic()
    sent = []
    count = int(rate * seconds) if rate > 0 else None
    seq = 0
    while seq != count:
        seq += 1
        sent.append(client.publish(topic, motion(home, device, seq), qos=1))
        if count is None and seq > IN_FLIGHT:
            sent[-IN_FLIGHT - 1].wait_for_publish(timeout=30)  # the broker's pace, not ours
        if seq % PACE_EVERY == 0:
            elapsed = time.monotonic() - started
            if count is None:
                if elapsed >= seconds:
                    break
            elif (ahead := seq / rate - elapsed) > 0:
                time.sleep(ahead)
    for info in sent:
        info.wait_for_publish(timeout=30)
    client.loop_stop()
    client.disconnect()
    return sum(info.is_published() for info in sent)


if __name__ == "__main__":
    port, prefix, home, device, rate, seconds = sys.argv[1:7]
    began = time.monotonic()
    taken = flood(int(port), prefix, home, device, float(rate), float(seconds))
    print(json.dumps({"published": taken, "seconds": round(time.monotonic() - began, 2)}))

"""The quarantine record of a rejected payload, built one way by every service that rejects
input (the gateway for devices' messages, alerting for alerts that fail the schema).

Bounded: the payload's first bytes, decoded leniently, and its size; published at QoS 1
below ``{prefix}/_quarantine/``, since the records are what operators (and the chaos run)
count bad input by.
"""

from __future__ import annotations

from datetime import datetime

from eldercare.bus import Outgoing
from eldercare.models import QuarantineRecord
from eldercare.topics import Topics

HEAD_BYTES = 512


def payload_head(payload: bytes) -> str:
    """The first bytes of a payload as text, whatever they are (never raises)."""
    return payload[:HEAD_BYTES].decode("utf-8", errors="replace")


def quarantine(
    topics: Topics,
    topic: str,
    payload: bytes,
    reason: str,
    at: datetime,
    *,
    home: str | None = None,
    device: str | None = None,
    device_rejects: int | None = None,
) -> Outgoing:
    record = QuarantineRecord(
        topic=topic,
        reason=reason,
        received_at=at,
        size=len(payload),
        payload_head=payload_head(payload),
        home=home,
        device=device,
        device_rejects=device_rejects,
    )
    return Outgoing(topics.quarantine(topic), record.to_json(), qos=1)

"""Closing the loop to the resident: the terminal that raised an alert hears back.

``alert_received`` goes out as soon as the alert is stored; ``help_coming`` (with who) when
someone acknowledges. Only for alerts a person raised or that concern their body (call
button, fall): a smoke detector has nobody to reassure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from eldercare.bus import Outgoing
from eldercare.models import (
    AlertKind,
    CommandKind,
    DeviceCommand,
    LocalizedText,
)
from eldercare.topics import Channel, TopicError, Topics

LOOP_KINDS = frozenset({AlertKind.CALL_BUTTON, AlertKind.FALL})

RECEIVED = LocalizedText(zh_cn="已收到您的呼叫，正在联系工作人员", en="Your call was received")


def _coming(by: str) -> LocalizedText:
    return LocalizedText(zh_cn=f"{by} 已收到，正在赶来", en=f"{by} is on the way")


def commands(
    topics: Topics,
    *,
    home: str,
    devices: Iterable[str],
    kind: AlertKind,
    command: CommandKind,
    alert_id: str,
    at: datetime,
    by: str | None = None,
) -> list[Outgoing]:
    """One command per distinct device that gave evidence, QoS 1 so the terminal gets it."""
    if kind not in LOOP_KINDS:
        return []
    text = RECEIVED if command is CommandKind.ALERT_RECEIVED else _coming(by or "?")
    out = []
    for device in dict.fromkeys(devices):
        try:
            topic = topics.device(home, device, Channel.CMD)
        except TopicError:
            continue  # evidence from a device id we cannot address: nothing to confirm on
        message = DeviceCommand(
            home=home, device=device, command=command, alert_id=alert_id, at=at, by=by, text=text
        )
        out.append(Outgoing(topic, message.to_json(), qos=1))
    return out

"""Alerting's own timeline notes, as facts a screen can say in its reader's language.

Staff read the timeline in Chinese or English, so a note alerting writes is kept twice in
its audit row: as a fact (a key and its parameters, rendered by the dashboard's catalogue)
and as one English line, the record for anyone reading the table, the MQTT update or a log.
Parameters hold names, numbers and enum values (a tier's target, a severity), never prose,
so every word a reader sees comes from the catalogue. People's own notes stay free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: The longest English line stored (``alert_events.note`` and ``AlertUpdate.note``).
MAX_TEXT = 1000


@dataclass(frozen=True, slots=True)
class Note:
    key: str
    text: str
    args: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The audit row's ``note``, ``note_key`` and ``note_args``."""
        return {"note": self.text[:MAX_TEXT], "note_key": self.key, "note_args": self.args}


def trigger_attached(trigger_id: str, raised_from: str | None, raised_to: str | None) -> Note:
    """A second trigger of an open alert's kind; it may have raised the severity."""
    text = f"another trigger attached ({trigger_id})"
    if raised_to is None:
        return Note("trigger_attached", text, {"trigger": trigger_id})
    return Note(
        "trigger_attached_raised",
        f"{text}; severity {raised_from} → {raised_to}",
        {"trigger": trigger_id, "severity_from": raised_from, "severity_to": raised_to},
    )


def tier_fired(tier: int, target: str, late_s: int, names: Sequence[str]) -> Note:
    """A tier's people were asked: the first one, or a later one because nobody acknowledged."""
    why = "first notification" if tier == 0 else "nobody acknowledged"
    return Note(
        "tier_first" if tier == 0 else "tier_escalated",
        f"tier {tier} ({target}) at T+{late_s}s, {why}: {', '.join(names)}",
        {"tier": tier, "target": target, "late_s": late_s, "names": list(names)},
    )


def tier_nobody(tier: int, target: str, late_s: int) -> Note:
    return Note(
        "tier_nobody",
        f"tier {tier} ({target}) at T+{late_s}s: nobody to notify",
        {"tier": tier, "target": target, "late_s": late_s},
    )


def not_expired(late_s: int) -> Note:
    return Note(
        "not_expired",
        f"not expired at T+{late_s}s: nobody has been reached yet, so it stays open",
        {"late_s": late_s},
    )


def expired(late_s: int, names: Sequence[str]) -> Note:
    return Note(
        "expired",
        f"expired at T+{late_s}s: nobody acknowledged although {', '.join(names)} "
        "were told; the next trigger opens a new alert",
        {"late_s": late_s, "names": list(names)},
    )


def delivered(name: str, channel: str, tries: int, *, taken: bool) -> Note:
    """``channel`` is already a label (``json …0.1``), never a URL."""
    what = "told that it is taken:" if taken else "delivered to"
    return Note(
        "told_taken" if taken else "delivered",
        f"{what} {name} via {channel} (try {tries})",
        {"name": name, "channel": channel, "tries": tries},
    )


def not_needed(name: str) -> Note:
    return Note("not_needed", f"not delivered to {name}, no longer needed", {"name": name})


def unreachable(name: str, tries: int, error: str) -> Note:
    return Note(
        "unreachable",
        f"could not reach {name} after {tries} tries; next tier brought forward ({error})",
        {"name": name, "tries": tries, "error": error},
    )


def retrying(name: str, tries: int, wait_s: int, error: str) -> Note:
    return Note(
        "retrying",
        f"no channel reached {name} (try {tries}), retry in {wait_s}s: {error}",
        {"name": name, "tries": tries, "wait_s": wait_s, "error": error},
    )


def service_back(service: str, *, online: bool) -> Note:
    """A system alert closes itself: the service reconnected, or handles messages again."""
    if online:
        return Note("service_online", f"{service} is back online", {"service": service})
    return Note("service_processing", f"{service} is processing again", {"service": service})

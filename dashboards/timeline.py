"""An alert's timeline in the reader's language: steps, who took them, where, and why.

Alerting keeps its own notes as facts (a key and parameters, ``alerting/notes.py``); they are
said here from the catalogue, so staff read "已通知驿站值班人员：王芳" and never "tier 0
(station) at T+0s". A person's note, and a step stored before facts were kept, is shown as
it was written. Service names (``detector``) and channels (``dashboard``) are named too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerting.api import TimelineEntry
from dashboards.i18n import LANGS, catalogue
from dashboards.schemas import ResponderView

#: How the parameters of a note are said: which catalogue family names an enum value.
_FAMILIES = {
    "target": "target",
    "severity_from": "severity",
    "severity_to": "severity",
    "service": "actor",
}
#: Parameters that are durations in seconds.
_DURATIONS = {"late_s": "late", "wait_s": "wait"}
#: What ``dashboards.routes.alerts.actor_name`` appends to a relative's name.
FAMILY_SUFFIX = " (family)"


def duration(messages: Mapping[str, str], seconds: int) -> str:
    """``2 分钟`` / ``2 min``: whole seconds under a minute, whole minutes under two hours."""
    if seconds < 60:
        return messages["duration.s"].format(n=seconds)
    if seconds < 7200:
        return messages["duration.min"].format(n=round(seconds / 60))
    return messages["duration.h"].format(n=round(seconds / 3600))


def _said(messages: Mapping[str, str], name: str, value: Any) -> tuple[str, str]:
    if name in _DURATIONS:
        return _DURATIONS[name], duration(messages, int(value))
    if isinstance(value, list):
        return name, messages["list_sep"].join(str(item) for item in value)
    family = _FAMILIES.get(name)
    if family:
        return name, messages.get(f"{family}.{value}", str(value))
    return name, str(value)


def note_text(
    messages: Mapping[str, str], key: str | None, args: Mapping[str, Any] | None, stored: str
) -> str:
    """The note in the catalogue's language, or the stored text where there is no fact (or
    one this dashboard does not know yet, from a newer alerting)."""
    template = messages.get(f"note.{key}") if key else None
    if template is None:
        return stored
    try:
        return template.format(**dict(_said(messages, n, v) for n, v in (args or {}).items()))
    except (KeyError, IndexError, ValueError):
        return stored


def actor_text(messages: Mapping[str, str], actor: str | None) -> str:
    """A service by its name in the reader's language, a relative marked as one."""
    if not actor:
        return ""
    if actor.endswith(FAMILY_SUFFIX):
        return actor.removesuffix(FAMILY_SUFFIX) + messages["actor.family"]
    return messages.get(f"actor.{actor}", actor)


def channel_text(messages: Mapping[str, str], channel: str | None) -> str:
    return messages.get(f"channel.{channel}", channel or "") if channel else ""


@dataclass(frozen=True, slots=True)
class Step:
    """One line of an alert's timeline: a lifecycle step or an on-the-way / on-site step."""

    at: datetime
    label_key: str
    actor: str
    channel: str
    note: str
    is_response: bool
    outcome_key: str = ""  # the resolved step's "outcome.X" label
    #: ``note`` came from a fact, in the reader's language; otherwise it is stored text,
    #: which the page's script still reads (an old leading "[outcome]").
    from_fact: bool = False


def timeline_steps(
    lifecycle: list[TimelineEntry], responses: list[ResponderView], lang: str
) -> list[Step]:
    messages = catalogue(lang)
    steps = [
        Step(
            e.at,
            f"status.{e.status.value}",
            actor_text(messages, e.actor),
            channel_text(messages, e.channel),
            note_text(messages, e.note_key, e.note_args, e.note or ""),
            False,
            f"outcome.{e.outcome.value}" if e.outcome else "",
            e.note_key is not None,
        )
        for e in lifecycle
    ] + [
        Step(r.at, f"response.{r.state.value}", actor_text(messages, r.actor), "", "", True)
        for r in responses
    ]
    return sorted(steps, key=lambda step: step.at)  # stable: same instant keeps its order


class TimelineItem(TimelineEntry):
    """A timeline step as the API gives it: the stored record, and the note, the actor and
    the channel as each language says them."""

    note_text: dict[str, str]
    actor_text: dict[str, str]
    channel_text: dict[str, str]

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineItem:
        languages = {lang: catalogue(lang) for lang in LANGS}
        return cls(
            **entry.model_dump(),
            note_text={
                lang: note_text(m, entry.note_key, entry.note_args, entry.note or "")
                for lang, m in languages.items()
            },
            actor_text={lang: actor_text(m, entry.actor) for lang, m in languages.items()},
            channel_text={lang: channel_text(m, entry.channel) for lang, m in languages.items()},
        )

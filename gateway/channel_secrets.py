"""Channel URLs are write-only over the registry's REST API.

An apprise URL carries the keys to a paid SMS or push service; an admin page that shows it
shows them to anyone at that screen. Responses give each channel's label (kind and a masked
target, as the alert timeline does); a request that sends a label back means "keep the URL
stored for that contact under this label", so an edited home can be saved without retyping
every secret. The export CLI, run by an operator on the server, still writes full URLs.
"""

from __future__ import annotations

from eldercare.redaction import MASK, channel_label
from gateway.specs import HomeSpec


class UnknownChannelLabel(ValueError):
    """A label came back that names no channel stored for that contact."""


def masked(spec: HomeSpec) -> HomeSpec:
    if not spec.contacts:
        return spec
    contacts = [
        contact.model_copy(update={"channels": [channel_label(url) for url in contact.channels]})
        for contact in spec.contacts
    ]
    return spec.model_copy(update={"contacts": contacts})


def with_stored_urls(spec: HomeSpec, stored: HomeSpec | None) -> HomeSpec:
    """``spec`` with each label sent back replaced by the stored URL it stands for."""
    if not spec.contacts:
        return spec
    known = {c.name: c.channels for c in ((stored.contacts if stored else None) or [])}
    contacts = []
    for contact in spec.contacts:
        by_label = {channel_label(url): url for url in known.get(contact.name, [])}
        channels = []
        for channel in contact.channels:
            if _is_label(channel):
                if channel not in by_label:
                    raise UnknownChannelLabel(
                        f"{contact.name}: {channel!r} is a masked channel not stored for this "
                        "contact; send the full URL"
                    )
                channel = by_label[channel]
            channels.append(channel)
        contacts.append(contact.model_copy(update={"channels": channels}))
    return spec.model_copy(update={"contacts": contacts})


def has_labels(spec: HomeSpec) -> bool:
    return any(_is_label(channel) for c in spec.contacts or [] for channel in c.channels)


def _is_label(channel: str) -> bool:
    return MASK in channel and "://" not in channel

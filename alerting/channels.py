"""Notification channels through apprise: any service it knows, configured by one URL
(``json://host/path`` webhooks, ``mailto://``, SMS gateways, push services).

The boundary is one call per channel, ``send(url, …) -> Delivery``: the outbox decides
about retries and failover; this module only says whether this channel took the message.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

import apprise
from apprise import NotifyBase

from eldercare.redaction import channel_label, scrub

#: Schemes that are plain HTTP requests: they get our short timeouts.
_HTTP_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Connect / read timeouts: a hung provider must not hold the next channel back for long.
_TIMEOUTS = "cto=4&rto=8"


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    channel: str  # the channel's kind and a masked target (``channel_label``), never the URL
    error: str | None = None  # with every part of the URL taken out


class Notifier(Protocol):
    async def send(self, url: str, title: str, body: str, idempotency_key: str) -> Delivery: ...


def _with_argument(url: str, argument: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{argument}"


def channel(url: str, idempotency_key: str) -> NotifyBase | None:
    """The apprise plugin for ``url``, carrying the key as a header wherever the service
    takes custom headers (apprise's ``+Header=value``: webhooks, e-mail, Mailgun, SparkPost…).

    Whether a service takes headers is read from the plugin's own URL schema, not from a
    list of ours, so a channel apprise adds header support to gets the key without a change
    here. Channels without headers (SMS gateways, most push services) carry no key: their
    body names the alert (``告警编号 …``), so a person can tell a repeat from a new alert.
    """
    if urlsplit(url).scheme.lower() in _HTTP_SCHEMES:
        url = _with_argument(url, _TIMEOUTS)
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None or "headers" not in plugin.template_kwargs:
        return plugin
    header = f"+{IDEMPOTENCY_HEADER}={quote(idempotency_key, safe='')}"
    return apprise.Apprise.instantiate(_with_argument(url, header))


class AppriseNotifier:
    """One apprise object per URL, so each channel's success is known on its own."""

    async def send(self, url: str, title: str, body: str, idempotency_key: str) -> Delivery:
        return await asyncio.to_thread(self._send, url, title, body, idempotency_key)

    @staticmethod
    def _send(url: str, title: str, body: str, idempotency_key: str) -> Delivery:
        plugin = channel(url, idempotency_key)
        label = channel_label(url)
        if plugin is None:
            return Delivery(False, label, "apprise does not understand this URL")
        with apprise.LogCapture(level=logging.WARNING) as captured:
            result = plugin.notify(body=body, title=title)
        if result:
            return Delivery(True, label)
        reason = captured.getvalue().strip().splitlines()  # type: ignore[attr-defined]
        error = scrub(reason[-1] if reason else "not delivered", url)
        return Delivery(False, label, error[-500:])

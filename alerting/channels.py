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

#: Schemes that are plain HTTP requests, where the key can travel as a header.
_HTTP_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Connect / read timeouts: a hung provider must not hold the next channel back for long.
_TIMEOUTS = "cto=4&rto=8"


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    channel: str  # the URL with credentials masked: safe to store and log
    error: str | None = None


class Notifier(Protocol):
    async def send(self, url: str, title: str, body: str, idempotency_key: str) -> Delivery: ...


def with_idempotency_key(url: str, key: str) -> str:
    """Add the key as a request header where the channel is HTTP, and our timeouts."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _HTTP_SCHEMES:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}+{IDEMPOTENCY_HEADER}={quote(key, safe='')}&{_TIMEOUTS}"


class AppriseNotifier:
    """One apprise object per URL, so each channel's success is known on its own."""

    async def send(self, url: str, title: str, body: str, idempotency_key: str) -> Delivery:
        return await asyncio.to_thread(self._send, url, title, body, idempotency_key)

    @staticmethod
    def _send(url: str, title: str, body: str, idempotency_key: str) -> Delivery:
        target = apprise.Apprise()
        if not target.add(with_idempotency_key(url, idempotency_key)):
            scheme = urlsplit(url).scheme or "?"
            return Delivery(False, f"{scheme}://…", "apprise does not understand this URL")
        masked = str(target[0].url(privacy=True)).split("?", 1)[0]
        with apprise.LogCapture(level=logging.WARNING) as captured:
            result = target.notify(body=body, title=title)
        if result:
            return Delivery(True, masked)
        reason = captured.getvalue().strip().splitlines()  # type: ignore[attr-defined]
        return Delivery(False, masked, (reason[-1] if reason else "not delivered")[-500:])

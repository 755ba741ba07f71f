"""Signed, expiring tokens for links in messages (acknowledge from an SMS, family view).

HMAC-SHA256 over a compact JSON body; the expiry is inside the signed body, so a link
cannot be stretched, and the comparison is constant-time. Tokens are URL-safe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any


class InvalidToken(ValueError):
    """Tampered, malformed or signed with another key."""


class ExpiredToken(InvalidToken):
    """Genuine but past its expiry: the page should say so, not just 'invalid'."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, Any], key: bytes, expires_at: datetime) -> str:
    body = json.dumps({**claims, "exp": int(expires_at.timestamp())}, separators=(",", ":"))
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{_b64(body.encode())}.{_b64(mac)}"


def verify(token: str, key: bytes, now: datetime) -> dict[str, Any]:
    """The claims of a genuine, unexpired token; raises InvalidToken/ExpiredToken otherwise."""
    try:
        body_part, mac_part = token.split(".")
        body, mac = _unb64(body_part), _unb64(mac_part)
    except ValueError:
        raise InvalidToken("malformed token") from None
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        raise InvalidToken("bad signature")
    claims: dict[str, Any] = json.loads(body)
    if now.timestamp() >= claims.get("exp", 0):
        raise ExpiredToken("token expired")
    return claims

"""The signed link a family member gets in a notification: opens their relative's page.

Built on ``eldercare.signing`` (HMAC, expiry inside the signed body). The ``purpose`` claim
keeps this token from being accepted where another signed token (an acknowledge link) is
expected, and the other way round.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboards.principal import Principal, Role
from eldercare.signing import InvalidToken, sign, verify

PURPOSE = "family"
#: Long enough that last week's message still opens the page; a new alert sends a new link.
LINK_LIFETIME = timedelta(days=7)


def family_token(
    key: bytes, home_id: str, contact_name: str, now: datetime, language: str = "zh-CN"
) -> str:
    claims = {"purpose": PURPOSE, "home": home_id, "name": contact_name, "lang": language}
    return sign(claims, key, now + LINK_LIFETIME)


def family_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/family/{token}"


def family_principal(token: str, key: bytes, now: datetime) -> Principal:
    """The family member a genuine, unexpired link stands for; InvalidToken otherwise."""
    claims = verify(token, key, now)
    if claims.get("purpose") != PURPOSE or not isinstance(claims.get("home"), str):
        raise InvalidToken("not a family link")
    return Principal(
        name=str(claims.get("name") or "family")[:100],
        role=Role.FAMILY,
        home_id=claims["home"],
        language=str(claims.get("lang") or "zh-CN"),
    )

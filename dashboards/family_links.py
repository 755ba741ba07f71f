"""The signed link a family member gets in a notification: opens their relative's page.

Built on ``eldercare.signing`` (HMAC, expiry inside the signed body). The ``purpose`` claim
keeps this token from being accepted where another signed token (an acknowledge link) is
expected, and the other way round.

A link is signed, not stored, so it is revoked by a date: staff revoke a relative's links
(``FamilyLinkRevocationRow``: every link issued to them until now), and a relative removed from
the home's contacts loses every link at once. Both are checked on every family request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dashboards import homes
from dashboards.principal import Principal, Role
from eldercare.db.models import FamilyLinkRevocationRow
from eldercare.signing import InvalidToken, sign, verify

PURPOSE = "family"
#: Long enough that last week's message still opens the page; a new alert sends a new link.
LINK_LIFETIME = timedelta(days=7)


class RevokedLink(InvalidToken):
    """Genuine and unexpired, but revoked by staff, or its relative is no longer a contact."""


@dataclass(frozen=True, slots=True)
class FamilyLink:
    principal: Principal
    issued_at: datetime


def family_token(
    key: bytes, home_id: str, contact_name: str, now: datetime, language: str = "zh-CN"
) -> str:
    claims = {
        "purpose": PURPOSE,
        "home": home_id,
        "name": contact_name,
        "lang": language,
        "iat": int(now.timestamp()),
    }
    return sign(claims, key, now + LINK_LIFETIME)


def family_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/family/{token}"


def read_family_link(token: str, key: bytes, now: datetime) -> FamilyLink:
    """The family member a genuine, unexpired link stands for; InvalidToken otherwise."""
    claims = verify(token, key, now)
    if claims.get("purpose") != PURPOSE or not isinstance(claims.get("home"), str):
        raise InvalidToken("not a family link")
    principal = Principal(
        name=str(claims.get("name") or "family")[:100],
        role=Role.FAMILY,
        home_id=claims["home"],
        language=str(claims.get("lang") or "zh-CN"),
    )
    # Links made before "iat" was signed in: issued one lifetime before they expire.
    issued = claims.get("iat")
    if not isinstance(issued, int):
        issued = int(claims["exp"] - LINK_LIFETIME.total_seconds())
    return FamilyLink(principal, datetime.fromtimestamp(issued, UTC))


async def check_not_revoked(session: AsyncSession, link: FamilyLink) -> None:
    """Raise RevokedLink when the relative was removed from the home or their links revoked."""
    home_id, name = link.principal.home_id or "", link.principal.name
    if name not in {contact.name for contact in await homes.contacts(session, home_id)}:
        raise RevokedLink("no longer a contact of the home")
    revocation = await session.get(FamilyLinkRevocationRow, (home_id, name))
    if revocation is not None and link.issued_at <= revocation.revoked_at:
        raise RevokedLink("revoked by staff")


async def revoke(session: AsyncSession, home_id: str, name: str, actor: str, now: datetime) -> None:
    """Every link issued to this relative until now stops working; new ones work again."""
    row = await session.get(FamilyLinkRevocationRow, (home_id, name))
    if row is None:
        row = FamilyLinkRevocationRow(home_id=home_id, contact_name=name)
        session.add(row)
    row.revoked_at, row.revoked_by = now, actor

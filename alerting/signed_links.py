"""Signed, expiring acknowledgement links: whoever holds the link may take the alert.

The token names the alert and the recipient it was sent to, so the audit timeline says
who acknowledged from a phone; it carries nothing secret and expires (``ack_link_ttl_s``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eldercare import signing
from eldercare.settings import Settings

PURPOSE = "ack"


@dataclass(frozen=True, slots=True)
class AckClaim:
    alert_id: str
    recipient: str
    name: str
    language: str


@dataclass(frozen=True, slots=True)
class AckLinks:
    key: bytes
    public_url: str
    ttl: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> AckLinks:
        return cls(
            settings.signing_key(),
            settings.public_url.rstrip("/"),
            timedelta(seconds=settings.ack_link_ttl_s),
        )

    def token(self, claim: AckClaim, now: datetime) -> str:
        body = {
            "p": PURPOSE,
            "a": claim.alert_id,
            "r": claim.recipient,
            "n": claim.name,
            "l": claim.language,
        }
        return signing.sign(body, self.key, now + self.ttl)

    def url(self, claim: AckClaim, now: datetime) -> str:
        return f"{self.public_url}/ack/{self.token(claim, now)}"

    def read(self, token: str, now: datetime) -> AckClaim:
        """The claim of a genuine, unexpired ack token; raises signing.InvalidToken/ExpiredToken."""
        body = signing.verify(token, self.key, now)
        if body.get("p") != PURPOSE:
            raise signing.InvalidToken("not an acknowledgement link")
        try:
            return AckClaim(body["a"], body["r"], body["n"], body["l"])
        except KeyError:
            raise signing.InvalidToken("incomplete token") from None

"""Channel URLs as people may see them: the kind of channel and a masked target, never the URL.

An apprise URL carries the keys to a paid service: passwords and API tokens, and for many
webhooks the path itself is the secret. Apprise's own "privacy" form hides passwords but keeps
hosts, paths and user names, so it is not enough for a screen. Staff need to know only which
kind of channel reached whom; the URL stays in the registry, where an administrator set it.

``channel_label`` names a channel where a delivery is recorded (the source), ``scrub`` takes
a URL's parts out of a provider's error, and ``mask_urls`` cleans text stored before this
existed, on its way out.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

#: ``scheme://…`` up to a space, quote or bracket: what a URL in a log or note looks like.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,31}://[^\s'\"<>()]+", re.IGNORECASE)
#: urllib3's "Max retries exceeded with url: /path?query": the request's path and query.
_REQUEST_PATH = re.compile(r"(\burl: )/\S*")
#: Shorter pieces (a port, "v1", "api") give nothing away and would mangle the text.
_SHORTEST_SECRET = 3
MASK = "…"


def channel_label(url: str) -> str:
    """``json …0.1``: the scheme and the last three characters of the host (of a long host),
    enough to tell two channels of one person apart and nothing to reuse."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    tail = host[-3:] if len(host) >= 8 else ""
    return f"{parts.scheme.lower() or '?'} {MASK}{tail}"


def _secret_parts(url: str) -> set[str]:
    parts = urlsplit(url)
    pieces = {parts.netloc, parts.hostname or "", parts.username or "", parts.password or ""}
    pieces |= {parts.path, parts.query, parts.fragment}
    pieces |= set(parts.path.split("/"))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        pieces |= {name, value, f"{name}={value}"}
    pieces |= {unquote(piece) for piece in pieces}
    return {piece for piece in pieces if len(piece) >= _SHORTEST_SECRET}


def scrub(text: str, url: str) -> str:
    """``text`` (an error from a provider or a library) without any part of ``url``: HTTP
    libraries quote the path and query of the failing request, tokens included."""
    for piece in sorted(_secret_parts(url), key=len, reverse=True):  # longest first
        text = text.replace(piece, MASK)
    return mask_urls(text)


def mask_urls(text: str) -> str:
    """Every URL in ``text`` replaced by its ``channel_label``, and request paths by ``…``."""
    text = _URL.sub(lambda match: channel_label(match[0]), text)
    return _REQUEST_PATH.sub(rf"\g<1>{MASK}", text)

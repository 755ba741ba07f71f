"""Security headers on every response of the dashboard: pages, API, static files, ack links.

Pages must stay free of inline script (the policy refuses it): an injected ``<script>``
then runs nowhere even if escaping were to fail once. Inline *styles* stay allowed: the
day charts place their marks with ``style="left: …"`` and the ack page colours its state,
and a style cannot run code. Frames are refused (clickjacking of "acknowledge"), and no
``Referer`` leaves a page: ack and family links carry their token in the URL.

A plain ASGI middleware, not ``BaseHTTPMiddleware``: that one buffers through a task per
request and is known to misbehave with streaming responses (the SSE wall stream).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP response the wrapped app sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

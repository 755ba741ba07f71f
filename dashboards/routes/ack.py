"""``/ack/{token}``: acknowledge from the link in an SMS, e-mail or chat message.

GET shows the alert and one button; only the POST acknowledges. Messaging apps and mail
scanners fetch links to build previews: if a GET acknowledged, a preview bot would stop the
escalation and nobody would come. Tampered and expired links get a page that says so and
that nothing was acknowledged. No login: the signed token (``alerting.api``) is the
authority. The acknowledgement goes through ``AlertingApi`` and is published like the
dashboard's own ack.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from alerting.api import (
    AckClaim,
    AlertNotFound,
    AlertView,
    ExpiredToken,
    InvalidToken,
    LinksNotConfigured,
    TransitionRefused,
)
from dashboards.deps import ContextDep
from dashboards.i18n import catalogue
from dashboards.rendering import TEMPLATES
from eldercare.vocabulary import DEFAULT_TIMEZONE

#: state → (HTTP status, colour); the words are ``ack.{state}.*`` in the catalogue.
PAGES: dict[str, tuple[int, str]] = {
    "confirm": (200, "#b00020"),
    "done": (200, "#2e7d32"),
    "already": (200, "#1565c0"),
    "expired": (410, "#ef6c00"),
    "invalid": (403, "#ef6c00"),
    "missing": (404, "#ef6c00"),
    "unavailable": (503, "#ef6c00"),
}

router = APIRouter(tags=["ack"], include_in_schema=False)


def _language(request: Request, claim: AckClaim | None) -> str:
    """The language the link was made for; without a readable claim, the browser's."""
    if claim is not None:
        return "en" if claim.language.lower().startswith("en") else "zh-CN"
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh-CN"


def _page(
    request: Request, state: str, claim: AckClaim | None = None, alert: AlertView | None = None
) -> HTMLResponse:
    status, colour = PAGES[state]
    lang = _language(request, claim)
    t = catalogue(lang)
    summary: dict[str, Any] | None = None
    message = t[f"ack.{state}.text"]
    if alert is not None:
        since = alert.raised_at.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
        summary = {
            "what": alert.explanation.get(lang) or t[f"kind.{alert.kind.value}"],
            "home": alert.home,
            "since": since,
        }
        if state == "already" and alert.acknowledged_by:
            message = t["ack.already.by"].format(by=alert.acknowledged_by)
    context = {
        "lang": lang,
        "t": t,
        "state": state,
        "colour": colour,
        "heading": t[f"ack.{state}.heading"],
        "message": message,
        "alert": summary,
        "confirm": state == "confirm",
    }
    return TEMPLATES.TemplateResponse(request, "ack.html", context, status_code=status)


def _read(ctx: ContextDep, token: str) -> AckClaim | str:
    """The link's claim, or the state of the page that says why there is none."""
    try:
        return ctx.api.read_ack_link(token)
    except ExpiredToken:
        return "expired"
    except InvalidToken:
        return "invalid"
    except LinksNotConfigured:
        return "unavailable"


@router.get("/ack/{token}", response_class=HTMLResponse, name="ack_link")
async def show(request: Request, token: str, ctx: ContextDep) -> HTMLResponse:
    claim = _read(ctx, token)
    if isinstance(claim, str):
        return _page(request, claim)
    try:
        alert = await ctx.api.get(claim.alert_id)
    except AlertNotFound:
        return _page(request, "missing", claim)
    return _page(request, "confirm" if alert.acknowledgeable else "already", claim, alert)


@router.post("/ack/{token}", response_class=HTMLResponse)
async def acknowledge(request: Request, token: str, ctx: ContextDep) -> HTMLResponse:
    claim = _read(ctx, token)
    if isinstance(claim, str):
        return _page(request, claim)
    try:
        update = await ctx.api.acknowledge(claim.alert_id, actor=claim.name, channel="link")
    except AlertNotFound:
        return _page(request, "missing", claim)
    except TransitionRefused:
        return _page(request, "already", claim, await ctx.api.get(claim.alert_id))
    await ctx.publish_update(update)
    return _page(request, "done", claim, await ctx.api.get(claim.alert_id))

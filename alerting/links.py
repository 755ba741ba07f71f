"""``/ack/{token}``: acknowledge from the link in an SMS, e-mail or chat message.

GET shows the alert and one button; only the POST acknowledges. Messaging apps and mail
scanners fetch links to build previews: if a GET acknowledged, a preview bot would stop the
escalation and nobody would come. Tampered and expired links get a page that says so and
that nothing was acknowledged. The dashboard mounts ``router``; it reads the AlertingApi
from ``app.state.alerting`` (built with ``AlertingApi.from_settings``) and publishes the
update through ``app.state.publish_update`` like the dashboard's own ack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from alerting.api import (
    AlertingApi,
    AlertNotFound,
    AlertView,
    ExpiredToken,
    InvalidToken,
    LinksNotConfigured,
    TransitionRefused,
)
from alerting.lifecycle import allowed_from
from alerting.messages import KIND_NAMES, is_english
from alerting.signed_links import AckClaim
from eldercare.models import AlertStatus
from eldercare.vocabulary import DEFAULT_TIMEZONE

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))

#: state → (HTTP status, colour, zh-CN heading, zh-CN text, en heading, en text)
PAGES: dict[str, tuple[int, str, str, str, str, str]] = {
    "confirm": (
        200, "#b00020", "由您来处理这条告警吗？", "确认后，其他人的通知和后续升级会立即停止。",
        "Will you take this alert?",
        "Once you confirm, everyone else's notifications and further escalation stop at once.",
    ),
    "done": (
        200, "#2e7d32", "已确认，由您负责", "其他通知已停止，老人家中的终端会显示有人正在赶来。",
        "Acknowledged: you are responsible now",
        "Other notifications have stopped; the resident's terminal says that help is coming.",
    ),
    "already": (
        200, "#1565c0", "这条告警已有人处理", "无需再确认。",
        "Someone has already taken this alert", "Nothing more to do here.",
    ),
    "expired": (
        410, "#ef6c00", "链接已过期", "未确认任何告警。请打开值班大屏或致电驿站。",
        "This link has expired",
        "Nothing was acknowledged. Open the dashboard or call the station.",
    ),
    "invalid": (
        403, "#ef6c00", "链接无效",
        "链接被修改或不完整，未确认任何告警。请打开值班大屏或致电驿站。",
        "This link is not valid",
        "It was altered or is incomplete; nothing was acknowledged. "
        "Open the dashboard or call the station.",
    ),
    "missing": (
        404, "#ef6c00", "告警不存在", "未确认任何告警。",
        "No such alert", "Nothing was acknowledged.",
    ),
    "unavailable": (
        503, "#ef6c00", "暂时无法确认", "服务器未配置签名密钥。请打开值班大屏。",
        "Cannot acknowledge here", "The server has no signing key. Use the dashboard.",
    ),
}  # fmt: skip

LABELS = {
    "zh-CN": {"what": "告警", "where": "地点", "since": "时间", "button": "我来处理"},
    "en": {"what": "Alert", "where": "Where", "since": "Since", "button": "I'm on it"},
}

router = APIRouter(tags=["ack"], include_in_schema=False)


def _language(request: Request, claim: AckClaim | None) -> str:
    if claim is not None:
        return "en" if is_english(claim.language) else "zh-CN"
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh-CN"


def _page(
    request: Request, state: str, claim: AckClaim | None = None, alert: AlertView | None = None
) -> HTMLResponse:
    status, colour, zh_heading, zh_text, en_heading, en_text = PAGES[state]
    lang = _language(request, claim)
    en = lang == "en"
    summary: dict[str, Any] | None = None
    message = en_text if en else zh_text
    if alert is not None:
        since = alert.raised_at.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
        summary = {
            "what": alert.explanation.get("en" if en else "zh-CN")
            or KIND_NAMES[alert.kind][1 if en else 0],
            "home": alert.home,
            "since": since,
        }
        if state == "already" and alert.acknowledged_by:
            by = alert.acknowledged_by
            message = f"{by} took it." if en else f"已由 {by} 负责。"
    context = {
        "lang": lang,
        "state": state,
        "colour": colour,
        "heading": en_heading if en else zh_heading,
        "message": message,
        "alert": summary,
        "labels": LABELS[lang],
        "confirm": state == "confirm",
    }
    return TEMPLATES.TemplateResponse(request, "ack.html", context, status_code=status)


def _read(request: Request, token: str) -> tuple[AlertingApi, AckClaim | str]:
    api: AlertingApi = request.app.state.alerting
    try:
        return api, api.read_ack_link(token)
    except ExpiredToken:
        return api, "expired"
    except InvalidToken:
        return api, "invalid"
    except LinksNotConfigured:
        return api, "unavailable"


@router.get("/ack/{token}", response_class=HTMLResponse, name="ack_link")
async def show(request: Request, token: str) -> HTMLResponse:
    api, claim = _read(request, token)
    if isinstance(claim, str):
        return _page(request, claim)
    try:
        alert = await api.get(claim.alert_id)
    except AlertNotFound:
        return _page(request, "missing", claim)
    state = "confirm" if alert.status in allowed_from(AlertStatus.ACKNOWLEDGED) else "already"
    return _page(request, state, claim, alert)


@router.post("/ack/{token}", response_class=HTMLResponse)
async def acknowledge(request: Request, token: str) -> HTMLResponse:
    api, claim = _read(request, token)
    if isinstance(claim, str):
        return _page(request, claim)
    try:
        update = await api.acknowledge(claim.alert_id, actor=claim.name, channel="link")
    except AlertNotFound:
        return _page(request, "missing", claim)
    except TransitionRefused:
        return _page(request, "already", claim, await api.get(claim.alert_id))
    publish = getattr(request.app.state, "publish_update", None)
    if publish is not None:
        await publish(update)
    return _page(request, "done", claim, await api.get(claim.alert_id))

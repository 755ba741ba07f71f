"""The message catalogue: every label shown to a person, Chinese first, English second.

Templates never hard-code text; they look up keys here, and a key missing in one language
falls back to the other so a page never shows a blank.
"""

from __future__ import annotations

DEFAULT_LANG = "zh-CN"
LANGS = ("zh-CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "驿站告警墙",
        "subtitle": "实时告警",
        "no_alerts": "暂无告警",
        "home": "住户",
        "kind": "类型",
        "severity": "级别",
        "status": "状态",
        "raised_at": "发生时间",
        "elapsed": "已过去",
        "acknowledged_by": "确认人",
        "acknowledge": "确认处理",
        "resolve": "已解决",
        "your_name": "您的姓名",
        "connected": "已连接",
        "disconnected": "连接中断，正在重连…",
        "severity.critical": "紧急",
        "severity.high": "高",
        "severity.medium": "中",
        "severity.low": "低",
        "status.open": "待处理",
        "status.notified": "已通知",
        "status.escalated": "已升级",
        "status.acknowledged": "已确认",
        "status.resolved": "已解决",
        "status.expired": "已过期",
        "kind.call_button": "一键呼叫",
        "kind.fall": "跌倒",
        "kind.inactivity": "长时间无活动",
        "kind.smoke": "烟雾",
        "kind.gas": "燃气",
        "switch_lang": "English",
    },
    "en": {
        "title": "Station alert wall",
        "subtitle": "Live alerts",
        "no_alerts": "No alerts",
        "home": "Home",
        "kind": "Kind",
        "severity": "Severity",
        "status": "Status",
        "raised_at": "Raised at",
        "elapsed": "Elapsed",
        "acknowledged_by": "Acknowledged by",
        "acknowledge": "Acknowledge",
        "resolve": "Resolve",
        "your_name": "Your name",
        "connected": "Connected",
        "disconnected": "Disconnected, reconnecting…",
        "severity.critical": "Critical",
        "severity.high": "High",
        "severity.medium": "Medium",
        "severity.low": "Low",
        "status.open": "Open",
        "status.notified": "Notified",
        "status.escalated": "Escalated",
        "status.acknowledged": "Acknowledged",
        "status.resolved": "Resolved",
        "status.expired": "Expired",
        "kind.call_button": "Call button",
        "kind.fall": "Fall",
        "kind.inactivity": "Inactivity",
        "kind.smoke": "Smoke",
        "kind.gas": "Gas",
        "switch_lang": "中文",
    },
}


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """An explicit ``?lang=`` wins, then the browser's first preference, then Chinese."""
    for candidate in (requested, *(accept_language or "").split(",")):
        if not candidate:
            continue
        tag = candidate.split(";")[0].strip().lower()
        for lang in LANGS:
            if tag == lang.lower() or tag.split("-")[0] == lang.split("-")[0].lower():
                return lang
    return DEFAULT_LANG


def catalogue(lang: str) -> dict[str, str]:
    """All labels for ``lang``, each missing one filled from the other language."""
    other = next(candidate for candidate in LANGS if candidate != lang)
    return {**MESSAGES[other], **MESSAGES[lang]}

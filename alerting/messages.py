"""What a notification says, in zh-CN and English: who, what, where, since when, and the
signed link that takes responsibility. Pure, so every wording is tested without a sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from eldercare.models import AlertKind, Severity
from eldercare.vocabulary import ALERT_KIND_NAMES

#: One table with the wall's and the signed-link page's names (the contract's).
KIND_NAMES = ALERT_KIND_NAMES

SEVERITY_NAMES: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("紧急", "URGENT"),
    Severity.HIGH: ("重要", "High"),
    Severity.MEDIUM: ("提醒", "Notice"),
    Severity.LOW: ("低", "Low"),
}


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything a message needs, gathered by the escalation step that sends it."""

    alert_id: str
    kind: AlertKind
    severity: Severity
    explanation: dict[str, str]
    raised_at: datetime
    home_id: str
    home_name: str
    address: str
    residents: tuple[str, ...]
    timezone: str
    ack_url: str
    now: datetime


def is_english(language: str) -> bool:
    return language.lower().startswith("en")


def render(facts: MessageFacts, language: str) -> tuple[str, str]:
    """``(title, body)`` in the recipient's language (Chinese unless they asked for English)."""
    en = is_english(language)
    pick = 1 if en else 0
    kind = KIND_NAMES[facts.kind][pick]
    severity = SEVERITY_NAMES[facts.severity][pick]
    who = "、".join(facts.residents) if not en else ", ".join(facts.residents)
    who = who or facts.home_name or facts.home_id
    local = facts.raised_at.astimezone(ZoneInfo(facts.timezone))
    since = local.strftime("%Y-%m-%d %H:%M")
    minutes = max(0, int((facts.now - facts.raised_at).total_seconds() // 60))
    what = facts.explanation.get("en" if en else "zh-CN") or kind
    where = facts.address or facts.home_name or facts.home_id
    if en:
        title = f"[{severity}] {kind}: {who}"
        body = (
            f"{what}\n"
            f"Who: {who}\n"
            f"Where: {where}\n"
            f"Since: {since} ({minutes} min ago), nobody has taken it yet\n"
            f"I'm on it — acknowledge: {facts.ack_url}\n"
            f"Alert {facts.alert_id}"
        )
    else:
        title = f"【{severity}】{kind}：{who}"
        body = (
            f"{what}\n"
            f"老人：{who}\n"
            f"地址：{where}\n"
            f"时间：{since}（{minutes} 分钟前），尚无人响应\n"
            f"我来处理——点击确认：{facts.ack_url}\n"
            f"告警编号 {facts.alert_id}"
        )
    return title, body


def render_taken(
    kind: AlertKind, who: str, by: str, at: datetime, timezone: str, language: str
) -> tuple[str, str]:
    """Tells the people already asked that someone has it, so nobody else drives over."""
    local = at.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
    if is_english(language):
        name = KIND_NAMES[kind][1]
        return f"[Taken] {name}: {who}", f"{by} took responsibility at {local}. Nothing to do."
    name = KIND_NAMES[kind][0]
    return f"【已有人处理】{name}：{who}", f"{by} 已于 {local} 确认并负责处理，无需再操作。"

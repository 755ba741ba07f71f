"""Message wording and response KPIs: pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerting.kpis import ResponseSample, summarise
from alerting.messages import MessageFacts, render
from eldercare.models import AlertKind, Severity

RAISED = datetime(2026, 11, 25, 0, 14, 3, tzinfo=UTC)

FACTS = MessageFacts(
    alert_id="01JDALERT",
    kind=AlertKind.CALL_BUTTON,
    severity=Severity.CRITICAL,
    explanation={"zh-CN": "门厅呼叫按钮被按下", "en": "Hall call button pressed"},
    raised_at=RAISED,
    home_id="h-0001",
    home_name="张阿姨家",
    address="和平路 12 号",
    residents=("张秀英",),
    timezone="Asia/Shanghai",
    ack_url="https://care.example/ack/TOKEN",
    now=RAISED + timedelta(minutes=2, seconds=5),
)


def test_chinese_message_says_who_what_where_since_and_links_the_ack() -> None:
    title, body = render(FACTS, "zh-CN")
    assert title == "【紧急】一键呼叫：张秀英"
    for part in ("门厅呼叫按钮被按下", "张秀英", "和平路 12 号", "2026-11-25 08:14", "2 分钟前"):
        assert part in body
    assert "https://care.example/ack/TOKEN" in body


def test_english_message_for_english_speaking_relatives() -> None:
    title, body = render(FACTS, "en-GB")
    assert title == "[URGENT] Call button: 张秀英"
    assert "Hall call button pressed" in body
    assert "Since: 2026-11-25 08:14 (2 min ago)" in body
    assert "acknowledge: https://care.example/ack/TOKEN" in body


def sample(ack_s: float | None, severity: Severity = Severity.CRITICAL) -> ResponseSample:
    return ResponseSample(
        station="s-1",
        month="2026-11",
        severity=severity,
        raised_at=RAISED,
        acknowledged_at=None if ack_s is None else RAISED + timedelta(seconds=ack_s),
        resolved_at=None if ack_s is None else RAISED + timedelta(seconds=ack_s + 600),
    )


def test_kpis_count_never_acknowledged_critical_alerts_as_late() -> None:
    samples = [sample(s) for s in (10, 20, 30, 50, 70, 100, 150, 170, 400)] + [sample(None)]
    samples.append(sample(5, Severity.LOW))
    kpis = summarise("s-1", "2026-11", samples)
    assert kpis.alerts == 11
    assert kpis.acknowledged == 10
    assert kpis.critical == 10
    assert kpis.critical_acked_60s == 0.4  # 10, 20, 30, 50 of 10 critical
    assert kpis.critical_acked_180s == 0.8  # …, 70, 100, 150, 170
    assert kpis.ack_median_s == pytest.approx(60.0)  # of 5,10,20,30,50,70,100,150,170,400
    assert kpis.ack_p90_s == pytest.approx(193.0)
    assert kpis.resolve_median_s == pytest.approx(660.0)


def test_kpis_without_critical_alerts_have_no_share() -> None:
    kpis = summarise(None, "2026-11", [sample(30, Severity.HIGH)])
    assert kpis.critical_acked_60s is None
    assert kpis.ack_median_s == 30.0

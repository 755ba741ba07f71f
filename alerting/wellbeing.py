"""Daily summaries and wellbeing notices: the only queries on those two tables.

Alerting writes them because it already is the service that keeps records from the bus
(alerts, dead letters) through a persistent QoS 1 session, and it holds the day's alerts
a summary counts. A notice is deliberately *not* an alert: it never enters the lifecycle,
so no escalation timer, no outbox message, nothing at night, nothing for the regional
centre. Staff find it on the visiting list and close it after a visit or call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from alerting import store
from alerting.trends import BASELINE_DAYS, RECENT_DAYS, Finding, find_trends
from eldercare.db.models import DailySummaryRow, WellbeingNoticeRow
from eldercare.models import DailySummary, WellbeingTrend
from eldercare.vocabulary import DEFAULT_TIMEZONE
from gateway import registry_api

OPEN, CLOSED = "open", "closed"
#: After a notice of a kind, the same kind waits this long before it is raised again (even
#: if closed): one visit answers a trend, a daily repeat would only be noise.
QUIET_AFTER_NOTICE = timedelta(days=14)


class NoticeView(BaseModel):
    notice_id: str
    home: str
    kind: WellbeingTrend
    day: date
    raised_at: datetime
    status: str
    explanation: dict[str, str]
    evidence: dict[str, object]

    @classmethod
    def from_row(cls, row: WellbeingNoticeRow) -> NoticeView:
        return cls(
            notice_id=row.id,
            home=row.home_id,
            kind=WellbeingTrend(row.kind),
            day=row.day,
            raised_at=row.raised_at,
            status=row.status,
            explanation=row.explanation,
            evidence=row.evidence,
        )


async def store_day(
    session: AsyncSession, day: DailySummary, now: datetime
) -> list[WellbeingNoticeRow]:
    """Keep a home's day and raise the notices its trends call for; a redelivered day
    replaces the stored one and raises nothing new."""
    existing = await session.scalar(
        select(DailySummaryRow).where(
            DailySummaryRow.home_id == day.home, DailySummaryRow.day == day.day
        )
    )
    alerts = await _alerts_on(session, day.home, day.day)
    summary = day.model_dump(mode="json", by_alias=True)
    if existing is not None:
        existing.summary, existing.alerts, existing.stored_at = summary, alerts, now
        return []
    session.add(
        DailySummaryRow(
            home_id=day.home, day=day.day, summary=summary, alerts=alerts, stored_at=now
        )
    )
    history = await recent_days(session, day.home, day.day, RECENT_DAYS + BASELINE_DAYS)
    return [
        row
        for finding in find_trends([*history, day])
        if (row := await _raise(session, day, finding, now)) is not None
    ]


async def recent_days(
    session: AsyncSession, home: str, before: date, count: int
) -> list[DailySummary]:
    """Up to ``count`` stored days of a home before ``before``, oldest first."""
    rows = (
        await session.scalars(
            select(DailySummaryRow)
            .where(
                DailySummaryRow.home_id == home,
                DailySummaryRow.day < before,
                DailySummaryRow.day >= before - timedelta(days=count),
            )
            .order_by(DailySummaryRow.day)
        )
    ).all()
    return [DailySummary.model_validate(row.summary) for row in rows]


async def _raise(
    session: AsyncSession, day: DailySummary, finding: Finding, now: datetime
) -> WellbeingNoticeRow | None:
    latest = await session.scalar(
        select(func.max(WellbeingNoticeRow.raised_at)).where(
            WellbeingNoticeRow.home_id == day.home, WellbeingNoticeRow.kind == finding.trend
        )
    )
    if latest is not None and now - latest < QUIET_AFTER_NOTICE:
        return None
    row = WellbeingNoticeRow(
        id=f"{day.home}.{finding.trend.value}.{day.day.isoformat()}",
        home_id=day.home,
        kind=finding.trend.value,
        day=day.day,
        raised_at=now,
        status=OPEN,
        explanation={"zh-CN": finding.zh, "en": finding.en},
        evidence={
            "days": finding.days,
            "values": finding.values,
            "recent_mean": finding.recent_mean,
            "baseline_mean": finding.baseline_mean,
            "baseline_sd": finding.baseline_sd,
            "slope_per_week": finding.slope_per_week,
        },
    )
    session.add(row)
    return row


async def _alerts_on(session: AsyncSession, home: str, day: date) -> int:
    """Alerts raised in the home on its local calendar day."""
    timezone = await registry_api.home_timezone(session, home)
    start = datetime.combine(day, time(), tzinfo=ZoneInfo(timezone or DEFAULT_TIMEZONE))
    return await store.count_raised(session, home, start, start + timedelta(days=1))


async def notices(
    session: AsyncSession, *, homes: Sequence[str] | None = None, status: str | None = OPEN
) -> Sequence[WellbeingNoticeRow]:
    query = select(WellbeingNoticeRow).order_by(WellbeingNoticeRow.raised_at.desc())
    if homes is not None:
        query = query.where(WellbeingNoticeRow.home_id.in_(homes))
    if status is not None:
        query = query.where(WellbeingNoticeRow.status == status)
    return (await session.scalars(query)).all()

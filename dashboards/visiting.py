"""Whom to visit first today, and why: the station's visiting list (探访名单).

Stations must visit or call every resident living alone regularly; the list puts the homes
where the sensors and the alert history give most reason first. The ranking is a sum of
plain points, each with the reason it was given, so staff can see why a home is high and
disagree with it:

- each open wellbeing notice (a slow change in her days): 3
- time since the last visit or call that reached her: never 4; from a week on, a point a
  week, at most 4 (the city programmes ask for a monthly visit)
- the last contact found a concern (within 30 days): 2
- alerts since that contact, in the last 14 days, by how they ended: taken to hospital 3,
  helped at home or not resolved yet 2, anything else 1, a false alarm 0.5 (device-health
  alerts are counted below, as offline sensors)
- sensors offline now: 1 each, at most 2 (we see her less well)

A visit or call that reached her closes her notices (alerting does that with the visit),
resets the days, and sets aside the alerts before it: the home moves down the list.
``rank`` is a pure function; ``visiting_list`` gathers the facts through alerting's API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from alerting.api import AlertView, NoticeView, Outcome, VisitOutcome, VisitView
from dashboards import homes
from dashboards.context import DashboardContext
from dashboards.principal import Principal
from dashboards.rendering import DEFAULT_TZ
from dashboards.scope import visible_home_ids
from eldercare.models import AlertKind
from gateway import registry_api

NOTICE_POINTS = 3.0
NEVER_POINTS = 4.0
WEEK_POINTS, MAX_DAYS_POINTS = 1.0, 4.0
CONCERN_POINTS, CONCERN_WINDOW = 2.0, timedelta(days=30)
ALERT_WINDOW = timedelta(days=14)
OFFLINE_POINTS, MAX_OFFLINE_POINTS = 1.0, 2.0
OPEN_ALERT_POINTS = 2.0
OUTCOME_POINTS = {
    Outcome.HOSPITAL: 3.0,
    Outcome.HELPED_AT_HOME: 2.0,
    Outcome.FALSE_ALARM: 0.5,
}
OTHER_OUTCOME_POINTS = 1.0
#: Device health is counted once, as offline sensors, not again as alerts.
DEVICE_KINDS = frozenset(
    {AlertKind.DEVICE_OFFLINE, AlertKind.HOME_OFFLINE, AlertKind.BATTERY_LOW, AlertKind.SYSTEM}
)
#: Alerts named one by one per home; the rest are one line ("and 4 more"), points and all.
SHOWN_ALERTS = 3


class Reason(BaseModel):
    """One line of "why": a catalogue sentence (``key``) and what fills it."""

    key: str
    points: float
    args: dict[str, str | int | float] = Field(default_factory=dict)
    words: dict[str, str] = Field(
        default_factory=dict, description="placeholders filled with a catalogue label"
    )


class VisitingItem(BaseModel):
    home_id: str
    name: str
    score: float
    reasons: list[Reason]
    last_contact: VisitView | None
    notices: list[NoticeView]


@dataclass
class HomeFacts:
    """What the list knows of one home (all of it already in the caller's scope)."""

    home_id: str
    name: str
    last_contact: VisitView | None = None
    notices: list[NoticeView] = field(default_factory=list)
    alerts: list[AlertView] = field(default_factory=list)
    devices_offline: int = 0
    timezone: str = DEFAULT_TZ


def reasons_for(facts: HomeFacts, now: datetime) -> list[Reason]:
    contact = facts.last_contact
    reasons = [
        Reason(
            key="visits.reason.notice",
            points=NOTICE_POINTS,
            words={"trend": f"trend.{notice.kind.value}"},
        )
        for notice in facts.notices
    ]
    if contact is None:
        reasons.append(Reason(key="visits.reason.never", points=NEVER_POINTS))
    else:
        days = (now - contact.at).days
        if days >= 7:
            points = min(MAX_DAYS_POINTS, WEEK_POINTS * (days // 7))
            reasons.append(Reason(key="visits.reason.days", points=points, args={"n": days}))
        if contact.outcome is VisitOutcome.CONCERN and now - contact.at <= CONCERN_WINDOW:
            reasons.append(
                Reason(
                    key="visits.reason.concern",
                    points=CONCERN_POINTS,
                    args={"date": _date(contact.at, facts.timezone)},
                )
            )
    since = max(now - ALERT_WINDOW, contact.at if contact else now - ALERT_WINDOW)
    recent = [a for a in facts.alerts if a.raised_at >= since and a.kind not in DEVICE_KINDS]
    for alert in recent[:SHOWN_ALERTS]:
        points, outcome = _alert_points(alert)
        reasons.append(
            Reason(
                key="visits.reason.alert",
                points=points,
                args={"date": _date(alert.raised_at, facts.timezone)},
                words={"kind": f"kind.{alert.kind.value}", "outcome": outcome},
            )
        )
    if more := recent[SHOWN_ALERTS:]:
        reasons.append(
            Reason(
                key="visits.reason.more_alerts",
                points=sum(_alert_points(alert)[0] for alert in more),
                args={"n": len(more)},
            )
        )
    if facts.devices_offline:
        reasons.append(
            Reason(
                key="visits.reason.offline",
                points=min(MAX_OFFLINE_POINTS, OFFLINE_POINTS * facts.devices_offline),
                args={"n": facts.devices_offline},
            )
        )
    return reasons


def _date(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%m-%d")


def _alert_points(alert: AlertView) -> tuple[float, str]:
    if alert.resolved_at is None:
        return OPEN_ALERT_POINTS, "visits.alert_open"
    if alert.outcome is None:
        return OTHER_OUTCOME_POINTS, f"status.{alert.status.value}"
    return OUTCOME_POINTS.get(alert.outcome, OTHER_OUTCOME_POINTS), f"outcome.{alert.outcome.value}"


def rank(homes_facts: Sequence[HomeFacts], now: datetime) -> list[VisitingItem]:
    """Highest risk first; ties go to the home waiting longest for a contact, then by id."""
    items = []
    for facts in homes_facts:
        reasons = reasons_for(facts, now)
        items.append(
            VisitingItem(
                home_id=facts.home_id,
                name=facts.name,
                score=round(sum(reason.points for reason in reasons), 1),
                reasons=reasons,
                last_contact=facts.last_contact,
                notices=facts.notices,
            )
        )
    never = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(
        items,
        key=lambda item: (
            -item.score,
            item.last_contact.at if item.last_contact else never,
            item.home_id,
        ),
    )


async def visiting_list(
    ctx: DashboardContext, session: AsyncSession, principal: Principal
) -> list[VisitingItem]:
    """Today's list over every home the principal may see (a station's staff: their own)."""
    home_ids = await visible_home_ids(session, principal)
    if not home_ids:
        return []
    now = ctx.clock.now()
    contacts = await ctx.api.last_contacts(home_ids)
    notices = await ctx.api.notices(homes=home_ids)
    alerts = await ctx.api.alerts_since(home_ids, now - ALERT_WINDOW)
    summaries = await homes.summaries(session, home_ids, alerts, ctx.activity, now)
    zones = {home.id: home.timezone for home in await registry_api.homes(session, home_ids)}
    facts = [
        HomeFacts(
            home_id=summary.home_id,
            name=summary.name,
            last_contact=contacts.get(summary.home_id),
            notices=[n for n in notices if n.home == summary.home_id],
            alerts=[a for a in alerts if a.home == summary.home_id],
            devices_offline=len(summary.devices_offline),
            timezone=zones.get(summary.home_id) or DEFAULT_TZ,
        )
        for summary in summaries
    ]
    return rank(facts, now)

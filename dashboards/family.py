"""The one-line answer a family member opens the page for: is Mum OK today?"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from alerting.api import AlertingApi
from dashboards.schemas import HomeDetail
from dashboards.week import USUAL, WEEK, Line, week_lines


class FamilyStatus(StrEnum):
    ATTENTION = "attention"  # an alert is not resolved yet
    AWAY = "away"  # away or in hospital: no news is expected
    NO_ACTIVITY = "no_activity"  # nothing heard since local midnight (or nothing at all)
    OK = "ok"


def family_status(home: HomeDetail, now: datetime) -> FamilyStatus:
    """Open alerts first (they need someone), then away, then whether we heard her today
    (since midnight in her home's time zone)."""
    if any(alert.resolved_at is None for alert in home.alerts):
        return FamilyStatus.ATTENTION
    if home.mode is not None:
        return FamilyStatus.AWAY
    zone = ZoneInfo(home.timezone)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    if home.last_activity is None or home.last_activity < midnight:
        return FamilyStatus.NO_ACTIVITY
    return FamilyStatus.OK


async def family_week(api: AlertingApi, home: HomeDetail, now: datetime) -> list[Line]:
    """The week before today (the home's today: yesterday is the newest summed-up day)."""
    today = now.astimezone(ZoneInfo(home.timezone)).date()
    return week_lines(await api.days(home.home_id, today, WEEK + USUAL))

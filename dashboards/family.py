"""The one-line answer a family member opens the page for: is Mum OK today?"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from dashboards.schemas import HomeDetail


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

"""Request and response bodies of the REST API (separate from the ORM rows on purpose)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field

from alerting.api import AlertView, VisitMode, VisitOutcome, VisitView
from dashboards.principal import Role
from eldercare.models import Outcome

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Every list endpoint answers with one of these; ``next_offset`` is null on the last."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    name: str
    role: Role
    station_id: str | None
    home_id: str | None
    language: str


class LoginResponse(BaseModel):
    token: str = Field(description="also set as an HttpOnly cookie; send as Bearer otherwise")
    user: Me


class AckRequest(BaseModel):
    note: str | None = Field(default=None, max_length=500)


#: What staff choose from when they resolve (``recovered`` is alerting's own, for system
#: alerts whose service came back).
STAFF_OUTCOMES = [outcome for outcome in Outcome if outcome is not Outcome.RECOVERED]


class ResolveRequest(BaseModel):
    outcome: Outcome = Field(description="stored on the alert; false_alarm teaches the detector")
    note: str | None = Field(default=None, max_length=500)


class ResponseState(StrEnum):
    ON_THE_WAY = "on_the_way"
    ON_SITE = "on_site"


class ResponseRequest(BaseModel):
    state: ResponseState


class ResponderView(BaseModel):
    state: ResponseState
    actor: str
    at: datetime


class ResidentView(BaseModel):
    name: str
    birth_year: int | None
    care_notes: str
    phone: str = Field(description='"" when the registry has none')


class ContactView(BaseModel):
    name: str
    relation: str = Field(description="as the registry has it: free text, in any language")
    relation_text: dict[str, str] = Field(description="the relation in each language")
    phone: str = Field(description='"" when the registry has none')
    position: int


class Household(BaseModel):
    """Who lives there, where, and whom to call: what staff read on the wall at a glance."""

    name: str
    address: str
    residents: list[ResidentView]
    contact: ContactView | None = Field(description="the first relative to call, if any")


class AlertItem(AlertView):
    """An alert as the wall shows it: with who is on the way or on site, and the household
    (null for a home the registry does not know, e.g. a service's system alert)."""

    response: ResponderView | None = None
    household: Household | None = None


class HomeModeName(StrEnum):
    HOME = "home"
    AWAY = "away"
    HOSPITAL = "hospital"


class HomeModeRequest(BaseModel):
    mode: HomeModeName
    until: AwareDatetime | None = Field(
        default=None, description="when the resident is expected back; null: until changed"
    )
    note: str = Field(default="", max_length=500)


class HomeModeView(BaseModel):
    mode: HomeModeName
    until: datetime | None
    note: str
    set_by: str
    set_at: datetime


Connectivity = Literal["online", "partial", "offline", "unknown"]
DeviceState = Literal["online", "offline", "unknown"]


class DeviceView(BaseModel):
    device_id: str
    kind: str
    room: str | None
    state: DeviceState
    last_seen: datetime | None
    battery_warning: bool


class HomeSummary(BaseModel):
    home_id: str
    name: str
    station_id: str | None
    mode: HomeModeView | None
    connectivity: Connectivity = Field(description="unknown until the dashboard hears a device")
    devices_offline: list[str]
    battery_warnings: list[str]
    last_activity: datetime | None
    last_activity_device: str | None
    open_alerts: int


class FamilyLinksRevoked(BaseModel):
    home_id: str
    contact: str
    revoked_at: datetime = Field(description="links issued to the contact until then refused")


class HomeDetail(HomeSummary):
    address: str
    timezone: str = Field(description="the home's IANA time zone: its days and hours")
    station_phone: str = Field(description='the station\'s number, "" when unknown or none')
    residents: list[ResidentView]
    contacts: list[ContactView]
    devices: list[DeviceView]
    alerts: list[AlertItem] = Field(description="open ones and the most recent past ones")


class TimeSpan(BaseModel):
    start: datetime
    end: datetime


class RoomOccupancy(BaseModel):
    room: str = Field(description="the registry's room, or the device id where it has none")
    spans: list[TimeSpan]
    minutes: int


class SleepPeriod(TimeSpan):
    source: Literal["bed", "bedroom"] = Field(
        description="a bed sensor, or the quiet after the last movement in the bedroom"
    )


class HomeDay(BaseModel):
    """The resident's day, from the stored activity of the home (kept eight days)."""

    home_id: str
    day: date = Field(description="the local calendar day in the home's timezone")
    timezone: str = Field(description="the home's IANA time zone, e.g. Asia/Shanghai")
    start: datetime
    end: datetime
    rooms: list[RoomOccupancy]
    sleep: SleepPeriod | None = Field(description="the night before this day, if there was one")
    bathroom_visits: list[TimeSpan]
    events: int = Field(description="signs of life in the day (heartbeats do not count)")
    last_seen: datetime | None
    last_seen_device: str | None
    truncated: bool = Field(description="more events than one answer holds; the newest are used")


class VisitRequest(BaseModel):
    """A visit or call to record; who made it is the logged-in user."""

    mode: VisitMode
    outcome: VisitOutcome
    note: str = Field("", max_length=1000)
    at: AwareDatetime | None = Field(None, description="when it happened; now if absent")


class VisitRecorded(BaseModel):
    visit: VisitView
    notices_closed: int = Field(description="open wellbeing notices the visit closed")

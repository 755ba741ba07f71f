"""The public face of alerting: the only way the dashboard (or anything else) reads or
changes alerts, so table layout and lifecycle rules stay private to this package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from alerting import dead_letters, store, visits, wellbeing
from alerting.dead_letters import DeadLetterView
from alerting.escalation import plan_timers
from alerting.kpis import ResponseKpis, ResponseSample, by_station_and_month
from alerting.lifecycle import TransitionRefused, allowed_from
from alerting.notices import enqueue_taken
from alerting.policies import PolicyBook
from alerting.signed_links import AckClaim, AckLinks
from alerting.store import AlertNotFound, NoteLike
from alerting.trends import RECENT_DAYS as NOTICE_RECENT_DAYS
from alerting.visits import VisitCoverage, VisitMode, VisitOutcome, VisitView
from alerting.wellbeing import NoticeView
from eldercare.clock import Clock
from eldercare.db.models import (
    AlertEventRow,
    AlertRow,
    NotificationStatus,
)
from eldercare.db.one_call import OneCall
from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertUpdate,
    DailySummary,
    DeadLetter,
    Outcome,
    Severity,
)
from eldercare.redaction import mask_urls
from eldercare.settings import Settings
from eldercare.signing import ExpiredToken, InvalidToken
from eldercare.vocabulary import DEFAULT_TIMEZONE
from gateway import registry_api

__all__ = [
    "NOTICE_RECENT_DAYS",
    "AckClaim",
    "AlertNotFound",
    "AlertView",
    "AlertingApi",
    "DeadLetterView",
    "ExpiredToken",
    "InvalidToken",
    "LinksNotConfigured",
    "NoticeView",
    "NotificationView",
    "Outcome",
    "ResponderInfo",
    "ResponseKpis",
    "TimelineEntry",
    "TransitionRefused",
    "VisitCoverage",
    "VisitMode",
    "VisitOutcome",
    "VisitView",
]


class LinksNotConfigured(RuntimeError):
    """This AlertingApi was built without a signing key: use ``AlertingApi.from_settings``."""


class ResidentInfo(BaseModel):
    name: str
    birth_year: int | None
    care_notes: str


class ResponderInfo(BaseModel):
    """What the person going there needs; only for roles allowed to see it."""

    home_name: str
    address: str
    access_notes: str  # key safe, door code, which neighbour has a key
    residents: list[ResidentInfo]
    contacts: list[dict[str, str]]  # name and relation; their numbers stay in the registry


class AlertView(BaseModel):
    alert_id: str
    home: str
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    raised_at: datetime
    updated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    trigger_count: int
    explanation: dict[str, str]
    evidence: list[dict[str, Any]]
    outcome: Outcome | None = None
    responder: ResponderInfo | None = None

    @property
    def acknowledgeable(self) -> bool:
        """Someone may still take it (an expired one too, by a person who comes late)."""
        return self.status in allowed_from(AlertStatus.ACKNOWLEDGED)

    @classmethod
    def from_row(cls, row: AlertRow, responder: ResponderInfo | None = None) -> AlertView:
        return cls(
            alert_id=row.id,
            home=row.home_id,
            kind=AlertKind(row.kind),
            severity=Severity(row.severity),
            status=AlertStatus(row.status),
            raised_at=row.raised_at,
            updated_at=row.updated_at,
            acknowledged_by=row.acknowledged_by,
            acknowledged_at=row.acknowledged_at,
            resolved_at=row.resolved_at,
            trigger_count=row.trigger_count,
            explanation=row.explanation,
            evidence=row.evidence,
            outcome=row.outcome,
            responder=responder,
        )


class TimelineEntry(BaseModel):
    at: datetime
    status: AlertStatus
    actor: str | None
    channel: str | None
    note: str | None
    #: On the ``resolved`` step: how it ended (kept on the alert, which resolves only once).
    outcome: Outcome | None = None
    #: Alerting's own note as a fact, for a reader's language (``alerting.notes``); null on
    #: people's notes and on steps stored before facts were kept (then ``note`` is all).
    note_key: str | None = None
    note_args: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: AlertEventRow, alert: AlertRow) -> TimelineEntry:
        resolved = row.status == AlertStatus.RESOLVED.value
        return cls(
            at=row.at,
            status=AlertStatus(row.status),
            actor=row.actor,
            channel=row.channel,
            # Rows written before channels were labelled may hold a channel's URL.
            note=mask_urls(row.note) if row.note else row.note,
            outcome=alert.outcome if resolved else None,
            note_key=row.note_key,
            note_args=row.note_args,
        )


class DeliveryAttemptView(BaseModel):
    at: datetime
    channel: str
    ok: bool
    error: str | None


class NotificationView(BaseModel):
    """One message to one person, and what became of it on each channel."""

    tier: int
    recipient: str
    recipient_name: str
    status: NotificationStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    delivered_via: str | None
    last_error: str | None
    deliveries: list[DeliveryAttemptView]


class AlertingApi:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        policies: PolicyBook | None = None,
        links: AckLinks | None = None,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._one_call = OneCall(engine)
        self._clock = clock
        self.policies = policies or PolicyBook()
        self.links = links

    @classmethod
    def from_settings(cls, engine: AsyncEngine, clock: Clock, settings: Settings) -> AlertingApi:
        """The full API: policies from the configured folder, ack links signed and checked."""
        return cls(
            engine,
            clock,
            policies=PolicyBook(settings.policies_dir),
            links=AckLinks.from_settings(settings),
        )

    async def record(self, alert: Alert) -> AlertUpdate | None:
        """Store a trigger and, in the same transaction, plan its escalation: one call to
        the database (``eldercare.db.one_call``), committed when this returns."""
        now, policies = self._clock.now(), self.policies

        def record_and_plan(session: Session) -> AlertUpdate | None:
            recorded = store.record_alert(session, alert, now)
            if recorded is None:
                return None
            if recorded.needs_plan:
                plan_timers(session, recorded.row, policies, new=recorded.new)
            return recorded.update

        return await self._one_call.run(record_and_plan)

    async def record_dead_letter(self, record: DeadLetter) -> bool:
        """Keep a message some service set aside; False when this record was kept before."""
        async with self._sessions.begin() as session:
            return await dead_letters.store(session, record, self._clock.now())

    async def record_day(self, day: DailySummary) -> list[NoticeView]:
        """Keep a home's day (``DailySummary``); the wellbeing notices its trends raised."""
        async with self._sessions.begin() as session:
            rows = await wellbeing.store_day(session, day, self._clock.now())
            return [NoticeView.from_row(row) for row in rows]

    async def days(self, home: str, before: date, count: int) -> list[DailySummary]:
        """Up to ``count`` stored days of a home before ``before``, oldest first."""
        async with self._sessions() as session:
            return await wellbeing.recent_days(session, home, before, count)

    async def notices(
        self, *, homes: Sequence[str] | None = None, status: str | None = wellbeing.OPEN
    ) -> list[NoticeView]:
        """Wellbeing notices, newest first (open ones unless ``status`` says otherwise)."""
        async with self._sessions() as session:
            rows = await wellbeing.notices(session, homes=homes, status=status)
        return [NoticeView.from_row(row) for row in rows]

    async def record_visit(
        self,
        home: str,
        *,
        by: str,
        mode: VisitMode,
        outcome: VisitOutcome,
        note: str = "",
        at: datetime | None = None,
    ) -> tuple[VisitView, int]:
        """Keep a visit or call (``at`` defaults to now); one that reached the resident
        closes the home's open wellbeing notices. The visit and how many notices it closed."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row, closed = await visits.record(
                session,
                home,
                at=at or now,
                by=by,
                mode=mode,
                outcome=outcome,
                note=note,
                now=now,
            )
            return VisitView.from_row(row), closed

    async def visits(self, home: str, *, limit: int = 20) -> list[VisitView]:
        """A home's visits and calls, newest first."""
        async with self._sessions() as session:
            return [VisitView.from_row(row) for row in await visits.of_home(session, home, limit)]

    async def last_contacts(self, homes: Sequence[str]) -> dict[str, VisitView]:
        """Each home's latest visit or call that reached the resident."""
        async with self._sessions() as session:
            found = await visits.last_contacts(session, homes)
        return {home: VisitView.from_row(row) for home, row in found.items()}

    async def visit_coverage(
        self, *, month: str, station: str | None = None
    ) -> list[VisitCoverage]:
        """Per station: the share of its homes reached by a visit or call in ``month``."""
        async with self._sessions() as session:
            return await visits.coverage(session, month=month, station=station)

    async def alerts_since(self, homes: Sequence[str], since: datetime) -> list[AlertView]:
        """The homes' alerts raised since ``since`` (any status), newest first."""
        async with self._sessions() as session:
            rows = await store.alerts_since(session, homes, since)
        return [AlertView.from_row(row) for row in rows]

    async def dead_letters(
        self, *, service: str | None = None, limit: int = 50
    ) -> tuple[int, list[DeadLetterView]]:
        """How many dead letters there are in all, and the newest ``limit`` of them."""
        async with self._sessions() as session:
            total = await dead_letters.count(session)
            rows = await dead_letters.newest(session, service=service, limit=limit)
        return total, [DeadLetterView.from_row(row) for row in rows]

    async def get(self, alert_id: str, *, responder_info: bool = False) -> AlertView:
        """One alert; ``responder_info`` adds address, access notes and care notes — pass it
        only for roles allowed to see them (the caller enforces roles)."""
        async with self._sessions() as session:
            row = await store.get_alert(session, alert_id)
            responder = await _responder_info(session, row.home_id) if responder_info else None
            return AlertView.from_row(row, responder)

    async def open_alert(self, home: str, kind: AlertKind) -> str | None:
        """The id of the unresolved alert of this kind for this home, if there is one."""
        async with self._sessions() as session:
            row = await store.open_alert(session, home, kind.value)
            return row.id if row else None

    async def notifications(self, alert_id: str) -> list[NotificationView]:
        """Who was told, when, through which channel, and what failed: delivery you can check."""
        async with self._sessions() as session:
            await store.get_alert(session, alert_id)
            sent = await store.notifications(session, alert_id)
        return [
            NotificationView(
                tier=row.tier,
                recipient=row.recipient,
                recipient_name=row.recipient_name,
                status=NotificationStatus(row.status),
                attempts=row.attempts,
                created_at=row.created_at,
                sent_at=row.sent_at,
                delivered_via=row.delivered_via,
                last_error=row.last_error,
                deliveries=[
                    DeliveryAttemptView(at=a.at, channel=a.channel, ok=a.ok, error=a.error)
                    for a in attempts
                ],
            )
            for row, attempts in sent
        ]

    def read_ack_link(self, token: str) -> AckClaim:
        """The claim of a signed ack link; raises InvalidToken or ExpiredToken (a subclass)."""
        if self.links is None:
            raise LinksNotConfigured("AlertingApi has no signing key")
        return self.links.read(token, self._clock.now())

    async def response_kpis(
        self, *, station: str | None = None, month: str | None = None
    ) -> list[ResponseKpis]:
        """Time to acknowledge / resolve per station and month (YYYY-MM, home's timezone)."""
        async with self._sessions() as session:
            placed = await registry_api.stations_and_timezones(session)
            alerts = await store.resident_alerts(session)
        samples = []
        for alert in alerts:
            station_id, timezone = placed.get(alert.home_id, (None, None))
            if station is not None and station_id != station:
                continue
            local_month = alert.raised_at.astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE))
            sample_month = local_month.strftime("%Y-%m")
            if month is not None and sample_month != month:
                continue
            samples.append(
                ResponseSample(
                    station=station_id,
                    month=sample_month,
                    severity=Severity(alert.severity),
                    raised_at=alert.raised_at,
                    acknowledged_at=alert.acknowledged_at,
                    resolved_at=alert.resolved_at,
                )
            )
        return by_station_and_month(samples)

    async def list(
        self, *, unresolved_only: bool = True, home: str | None = None, limit: int = 200
    ) -> list[AlertView]:
        async with self._sessions() as session:
            rows = await store.list_alerts(
                session, unresolved_only=unresolved_only, home=home, limit=limit
            )
            return [AlertView.from_row(row) for row in rows]

    async def timeline(self, alert_id: str) -> list[TimelineEntry]:
        async with self._sessions() as session:
            alert = await store.get_alert(session, alert_id)
            steps = await store.timeline(session, alert_id)
            return [TimelineEntry.from_row(row, alert) for row in steps]

    async def acknowledge(
        self, alert_id: str, *, actor: str, channel: str, note: str | None = None
    ) -> AlertUpdate:
        """Someone takes responsibility: every pending tier and unsent message stops, and
        those already asked are told who has it — all in one transaction."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            update = await store.transition(
                session,
                alert_id,
                AlertStatus.ACKNOWLEDGED,
                now,
                actor=actor,
                channel=channel,
                note=note,
            )
            await enqueue_taken(session, alert_id, actor, now)
            return update

    async def resolve(
        self,
        alert_id: str,
        *,
        actor: str,
        channel: str,
        note: NoteLike = None,
        outcome: Outcome | None = None,
    ) -> AlertUpdate:
        """Close the alert; the outcome is stored on it (KPIs, timeline) and published with
        the update, where the detector learns from a false alarm."""
        return await self._transition(
            alert_id,
            AlertStatus.RESOLVED,
            actor=actor,
            channel=channel,
            note=note,
            outcome=outcome.value if outcome else None,
        )

    async def resolve_recovered(
        self, home: str, kind: AlertKind, *, actor: str, reason: str
    ) -> AlertUpdate | None:
        """The condition behind the home's open alert of this kind ended by itself (a device
        back online): resolve it as recovered, the reason in its timeline. None when no such
        alert is open (staff closed it already, or it never reached us)."""
        async with self._sessions.begin() as session:
            row = await store.open_alert(session, home, kind.value)
            if row is None:
                return None
            return await store.transition(
                session,
                row.id,
                AlertStatus.RESOLVED,
                self._clock.now(),
                actor=actor,
                channel=actor,
                note=reason,
                outcome=Outcome.RECOVERED.value,
            )

    async def _transition(self, alert_id: str, target: AlertStatus, **details: Any) -> AlertUpdate:
        async with self._sessions.begin() as session:
            return await store.transition(session, alert_id, target, self._clock.now(), **details)


async def _responder_info(session: AsyncSession, home_id: str) -> ResponderInfo | None:
    home = await registry_api.home(session, home_id)
    if home is None:
        return None
    residents = await registry_api.residents(session, home_id)
    contacts = await registry_api.contacts(session, home_id)
    return ResponderInfo(
        home_name=home.name,
        address=home.address,
        access_notes=home.access_notes,
        residents=[
            ResidentInfo(name=r.name, birth_year=r.birth_year, care_notes=r.care_notes)
            for r in residents
        ],
        contacts=[{"name": c.name, "relation": c.relation} for c in contacts],
    )

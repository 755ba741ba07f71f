"""SQLAlchemy tables. Each table has one writer service (noted per class); others only read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eldercare.topics import home_hash
from eldercare.vocabulary import DEFAULT_TIMEZONE


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware in and out on every backend (SQLite would otherwise return naive times)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimerStatus(StrEnum):
    """An escalation timer's state (``escalation_timers.status``)."""

    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"  # the alert was acknowledged or closed first


class NotificationStatus(StrEnum):
    """An outbox row's state (``notifications.status``)."""

    PENDING = "pending"  # waiting for its first try or its next retry
    SENT = "sent"
    FAILED = "failed"  # every try failed: the next tier is brought forward
    CANCELLED = "cancelled"  # someone had the alert before it went out


class NotificationPurpose(StrEnum):
    """Why a notification goes out (``notifications.purpose``)."""

    ALERT = "alert"  # asks for a response: dropped once someone acknowledged
    TAKEN = "taken"  # tells those already asked that someone has it: sent regardless


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class StationRow(Base):
    """Writer: gateway registry. A community station (驿站) or a regional service centre."""

    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="station")  # station | centre
    centre_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="SET NULL"), index=True
    )
    #: The number residents and relatives call ("" when unknown), shown on the family page.
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime]


class StaffRow(Base):
    """Writer: gateway registry. People of a station or centre who respond to alerts."""

    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30), default="duty")  # duty | technician | supervisor
    #: Notification targets as apprise URLs, tried in order (push, then SMS, then voice…).
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class HomeRow(Base):
    """Writer: gateway registry."""

    __tablename__ = "homes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    station_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str] = mapped_column(String(300), default="")
    #: Responders' information: shown only to roles allowed to see it.
    access_notes: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(50), default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime]
    #: ``home_hash(id)``, set on insert: a detector replica reads only its shards' homes
    #: (``shard_hash % shard_count IN owned``, ``registry_api.Shards``).
    shard_hash: Mapped[int | None] = mapped_column(
        BigInteger,
        index=True,
        default=lambda context: home_hash(context.get_current_parameters()["id"]),
    )


class ResidentRow(Base):
    """Writer: gateway registry."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    home_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int | None]
    #: Medication, mobility, hearing…: what a person going there must know.
    care_notes: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")


class ContactRow(Base):
    """Writer: gateway registry. Family members and neighbours, called in ``position`` order."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    home_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(50), default="")
    #: For a person to call; notifications use ``channels``.
    phone: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    #: Notification targets as apprise URLs, tried in order.
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)


class DeviceRow(Base):
    """Writer: gateway registry."""

    __tablename__ = "devices"
    home_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    room: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(100))
    #: Expected heartbeat interval; liveness deadlines derive from it.
    heartbeat_s: Mapped[int | None]
    battery_changed_at: Mapped[datetime | None]
    #: zigbee2mqtt friendly name (``zigbee2mqtt/<name>``): how a Zigbee device's messages
    #: find their home and device. Unique across homes because the topic carries no home.
    zigbee_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("zigbee_name", name="uq_devices_zigbee_name"),)


class MqttCredentialRow(Base):
    """Writer: gateway registry. Broker accounts: one per home terminal, one per service.

    Only the mosquitto PBKDF2 hash is stored, so the password and ACL files can be rebuilt
    from the database at any time without anyone keeping plaintext passwords around.
    """

    __tablename__ = "mqtt_credentials"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: ``home`` (its terminal; ``home_id`` set) or ``service``.
    role: Mapped[str] = mapped_column(String(20))
    home_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]


class AlertRow(Base):
    """Writer: alerting."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    home_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    trigger_count: Mapped[int] = mapped_column(Integer, default=1)
    #: How it ended (false_alarm, helped_at_home, hospital, …), set on resolve.
    outcome: Mapped[str | None] = mapped_column(String(30))
    explanation: Mapped[dict[str, Any]]
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: What raised it, as the detector said (``Alert.context``): handed back with the verdict.
    context: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_alerts_home_kind_status", "home_id", "kind", "status"),)


class AlertTriggerRow(Base):
    """Writer: alerting. Every trigger (the detector's alert id) ever stored, with the alert
    it opened or was attached to: a QoS 1 redelivery of a trigger that was attached to an
    open alert has no alert row of its own, and must still be recognised as seen."""

    __tablename__ = "alert_triggers"
    trigger_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    received_at: Mapped[datetime]


class AlertEventRow(Base):
    """Writer: alerting. The audit timeline: one row per lifecycle step, never updated."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(50))
    #: Free text a person wrote, or alerting's own line in English (the stored record).
    note: Mapped[str | None] = mapped_column(Text)
    #: Alerting's own notes also as facts, so a screen can say them in its reader's language:
    #: a catalogue key (``tier_fired``) and its parameters. Null on people's notes and on rows
    #: written before facts were kept (those show their ``note``).
    note_key: Mapped[str | None] = mapped_column(String(50))
    note_args: Mapped[dict[str, Any] | None]


class UserRow(Base):
    """Writer: dashboards. A person who may log in, with the one scope their role gives.

    ``station_id`` is the station for staff and the centre for a supervisor; ``home_id`` is
    the relative's home for a family member; admins have neither.
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # staff | supervisor | family | admin
    station_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), index=True
    )
    home_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class UserSessionRow(Base):
    """Writer: dashboards. A login; the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "user_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class HomeModeRow(Base):
    """Writer: dashboards. "Away / in hospital until …": the inactivity detector reads this
    so an empty flat does not raise inactivity alerts; no row means the resident is home."""

    __tablename__ = "home_modes"
    home_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(20))  # home | away | hospital
    until: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime]

    def in_force(self, now: datetime) -> bool:
        """Away or in hospital at ``now``: the one rule the dashboard shows and the detector
        follows (mode ``home``, or an end date that has passed, means expected at home)."""
        return self.mode != "home" and (self.until is None or self.until > now)


class FamilyLinkRevocationRow(Base):
    """Writer: dashboards. Staff revoked a relative's family links: every link issued to
    ``contact_name`` for the home up to ``revoked_at`` is refused from then on (a link is
    signed, not stored, so revoking is a date, checked on every family request)."""

    __tablename__ = "family_link_revocations"
    home_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("homes.id", ondelete="CASCADE"), primary_key=True
    )
    contact_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    revoked_at: Mapped[datetime]
    revoked_by: Mapped[str] = mapped_column(String(100))


class AlertResponseRow(Base):
    """Writer: dashboards. Who is on the way to / on site for an alert, so nobody else goes
    and nobody assumes someone else did. Append-only; the newest row per alert is the state."""

    __tablename__ = "alert_responses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20))  # on_the_way | on_site
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]


class HomeActivityRow(Base):
    """Writer: dashboards. One sign of life (a non-heartbeat event) with the room its device
    was in at the time, kept ``dashboards.activity_log.RETENTION`` (8 days) for the home
    page's day, "last seen" and the hour before an alert, so a restarted dashboard still
    knows them. The primary key leads with (home, at): every read is one home's time range,
    and a redelivered or twice-heard event is the same row (several dashboards write)."""

    __tablename__ = "home_activity"
    home_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(30), primary_key=True)
    room: Mapped[str | None] = mapped_column(String(50))

    #: Pruning deletes by time across all homes.
    __table_args__ = (Index("ix_home_activity_at", "at"),)


class LoginThrottleRow(Base):
    """Writer: dashboards. Failed logins per username and per client address, in the
    database so every dashboard instance counts the same guesses and a restart forgets none."""

    __tablename__ = "login_throttle"
    #: ``user:<username>`` or ``ip:<address>``.
    key: Mapped[str] = mapped_column(String(150), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime]
    #: Set when the failures reach the limit; until then every login for the key is refused.
    locked_until: Mapped[datetime | None]


class EscalationTimerRow(Base):
    """Writer: alerting. One row per policy tier of an alert: due time, then fired or cancelled.

    Timers live here rather than in memory so that a restart resumes escalation exactly
    where it was; ``owner``/``lease_until`` let several alerting instances share the work
    without two of them firing the same tier.
    """

    __tablename__ = "escalation_timers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[int] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=TimerStatus.PENDING.value)
    fired_at: Mapped[datetime | None]
    owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("alert_id", "tier", name="uq_escalation_timers_alert_tier"),
        Index("ix_escalation_timers_status_due", "status", "due_at"),
    )


class NotificationRow(Base):
    """Writer: alerting. The outbox: a message to one recipient, written in the same
    transaction as the escalation step that decided it, sent later with retries."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(20), default=NotificationPurpose.ALERT.value)
    #: Same key on every retry and after a restart, so receivers can drop duplicates.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(100))  # staff:<id> | contact:<id> | emergency
    recipient_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(10))
    #: apprise URLs in failover order.
    channels: Mapped[list[str]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=NotificationStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_via: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]

    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)


class DeliveryAttemptRow(Base):
    """Writer: alerting. One try of one channel for one notification: the delivery record."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(300))  # the URL without credentials
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(Text)


class DeadLetterRow(Base):
    """Writer: alerting (from ``{prefix}/_deadletter/+``, for every service). A message a
    service set aside after failing to handle it: kept for operators, never dropped."""

    __tablename__ = "dead_letters"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service: Mapped[str] = mapped_column(String(100), index=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    payload_encoding: Mapped[str] = mapped_column(String(10))  # utf-8 | base64
    payload_size: Mapped[int] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime]


class DailySummaryRow(Base):
    """Writer: alerting (from ``{prefix}/_wellbeing/+/summary``). One home's day as the
    detector summed it up, plus the alerts alerting stored that day; read for trends, the
    visiting list and the family's week."""

    __tablename__ = "daily_summaries"
    __table_args__ = (UniqueConstraint("home_id", "day", name="uq_daily_summaries_home_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    home_id: Mapped[str] = mapped_column(String(64), index=True)
    day: Mapped[date] = mapped_column(Date)
    summary: Mapped[dict[str, Any]]  # the DailySummary as published
    alerts: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime]


class WellbeingNoticeRow(Base):
    """Writer: alerting. A slow change in a home's days (more night toilet visits, later
    rising…): stored apart from alerts, so it is never paged, escalated or sent at night;
    staff see it on the visiting list and close it after a visit."""

    __tablename__ = "wellbeing_notices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    home_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)  # the day whose summary raised it
    raised_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    explanation: Mapped[dict[str, Any]]  # {"zh-CN": …, "en": …}
    evidence: Mapped[dict[str, Any]]  # the numbers behind it, for a small chart


class VisitRow(Base):
    """Writer: alerting (through ``alerting/api.py``, called by the dashboard). A visit or
    call by station staff (探访): the visiting list counts days since the last one."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    home_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(20))  # in_person | phone
    outcome: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]


#: The tables whose every write bumps ``registry_version`` (a database trigger on each, migration
#: ``registry_version``): what the gateway and the detector read from the registry.
REGISTRY_VERSIONED_TABLES = ("homes", "devices", "home_modes")


class RegistryVersionRow(Base):
    """Writer: database triggers on ``REGISTRY_VERSIONED_TABLES``, never the code. One row,
    a counter bumped in the same transaction as every insert, update or delete of those
    tables, whoever writes them (CLI, REST, dashboard, a migration, psql): the gateway and
    the detector poll it and read the registry only when it moved (issue 18)."""

    __tablename__ = "registry_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class ShardLeaseRow(Base):
    """Writer: the instances of one service (``scope``: ``detector``, ``alerting``), through
    ``eldercare/shard_leases.py``. Who owns a shard until when; a lease that lapsed (its
    owner died) is free for any live instance to take with one conditional UPDATE."""

    __tablename__ = "shard_leases"
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64))  # "" while never taken
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime | None]


class LeaseMemberRow(Base):
    """Writer: each instance, for itself. The live instances of a scope (renewed like a
    lease), so each takes only its fair share of shards: ceil(shards / live instances)."""

    __tablename__ = "lease_members"
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]


class DetectorCheckpointRow(Base):
    """Writer: the detector instance that owns the shard (the write checks the lease). Its
    rules' state (``detector/checkpoint.py``: rule name → snapshot), so the next owner of
    the shard goes on where the last one stopped instead of starting every timer afresh."""

    __tablename__ = "detector_checkpoints"
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    owner: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime]

"""The messages that cross MQTT between homes and services.

Every payload on the bus is one of these pydantic models. Services decode with
``Model.model_validate_json`` and treat a ``ValidationError`` as a quarantine reason,
never as a crash. ``extra="forbid"`` so a typo in a device firmware shows up as a
reject with a reason instead of silently dropping a field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

SCHEMA_VERSION = 1

#: Ids end up in MQTT topic levels and URLs, so they may not contain '/', '+', '#' or
#: spaces. A leading '_' is reserved for our own topics (``_quarantine``, ``_normalised``).
Ident = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", strip_whitespace=False)
]


def _epoch_ms_to_datetime(value: Any) -> Any:
    """Devices send either ISO 8601 or epoch milliseconds; both mean the same instant."""
    if isinstance(value, bool):
        return value  # let pydantic reject it: True is not a time
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch milliseconds {value!r} out of range") from None
    return value


EventTime = Annotated[AwareDatetime, BeforeValidator(_epoch_ms_to_datetime)]
#: JSON has no inf/NaN: they would be published as null, a silent change of meaning.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class Contract(BaseModel):
    """Base of every bus message: strict about unknown fields, serialised by alias."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


class EventType(StrEnum):
    MOTION = "motion"
    NO_MOTION = "no_motion"
    DOOR_OPEN = "door_open"
    DOOR_CLOSE = "door_close"
    BED_OCCUPIED = "bed_occupied"
    BED_EMPTY = "bed_empty"
    CHAIR_OCCUPIED = "chair_occupied"
    CHAIR_EMPTY = "chair_empty"
    TOILET_FLUSH = "toilet_flush"
    CALL_BUTTON = "call_button"
    CANCEL_BUTTON = "cancel_button"
    FALL_SUSPECTED = "fall_suspected"
    SMOKE = "smoke"
    GAS = "gas"
    WATER_LEAK = "water_leak"
    HEARTBEAT = "heartbeat"


#: Events that may mean a life is at risk (DESIGN §8): never rate-limited, never queued behind
#: ordinary traffic. The cancel press goes with the call so the two stay in order.
LIFE_SAFETY_EVENTS = frozenset(
    {
        EventType.CALL_BUTTON,
        EventType.CANCEL_BUTTON,
        EventType.FALL_SUSPECTED,
        EventType.SMOKE,
        EventType.GAS,
        EventType.WATER_LEAK,
    }
)


#: Events that tell a state (an alarm sounding, or its end) rather than something that
#: happened once: a device's last report of one still holds.
HAZARD_STATES = frozenset({EventType.SMOKE, EventType.GAS, EventType.WATER_LEAK})


class Event(Contract):
    """A discrete thing that happened at a device, stamped with the device's own clock."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    home: Ident
    device: Ident
    seq: int = Field(ge=0, lt=2**63, description="per-device counter: duplicates and gaps")
    ts: EventTime
    type: EventType
    value: dict[str, str | int | FiniteFloat | bool | None] = Field(default_factory=dict)


class Metric(StrEnum):
    ACCEL = "accel"
    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    HEART_RATE = "heart_rate"
    BATTERY = "battery"
    RSSI = "rssi"
    #: Zigbee link quality indicator (LQI, 0-255): not an RSSI in dBm, so its own metric.
    LINK_QUALITY = "link_quality"


#: An accelerometer batch larger than this is not a pendant window but a flood.
MAX_ACCEL_SAMPLES = 4096


class Telemetry(Contract):
    """Numeric samples. Accelerometer windows arrive batched: ``ts`` is the first sample."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    home: Ident
    device: Ident
    seq: int = Field(ge=0, lt=2**63)
    ts: EventTime
    metric: Metric
    value: float | None = Field(default=None, allow_inf_nan=False)
    rate_hz: float | None = Field(default=None, gt=0, le=2000)
    samples: list[tuple[float, float, float]] | None = Field(
        default=None, max_length=MAX_ACCEL_SAMPLES, description="accel in g, (x, y, z)"
    )

    @model_validator(mode="after")
    def _shape_matches_metric(self) -> Self:
        if self.metric is Metric.ACCEL:
            if not self.samples or self.rate_hz is None:
                raise ValueError("accel telemetry needs samples and rate_hz")
        elif self.value is None:
            raise ValueError(f"{self.metric} telemetry needs a value")
        return self


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class BatteryHealth(StrEnum):
    OK = "ok"
    LOW = "low"
    #: The percentage may still look fine, but the battery is older than the model's
    #: expected life: percentages of coin cells drop off a cliff, so replace by age too.
    DUE_FOR_REPLACEMENT = "due_for_replacement"


#: Reserved device id: a ``DeviceStatus`` for it speaks for the whole home ("gateway
#: offline" when every device of the home went quiet). The registry refuses it as a real id.
HOME_GATEWAY_DEVICE = "home-gateway"


class DeviceStatus(Contract):
    """Presence of a device; ``offline`` is also the MQTT last will, so ``ts`` may be absent.

    The gateway republishes one on every change it decides (liveness deadline, availability,
    battery), with ``reason`` saying why; ``device == HOME_GATEWAY_DEVICE`` is the home.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    home: Ident
    device: Ident
    state: DeviceState
    ts: EventTime | None = None
    reason: str | None = Field(default=None, max_length=200)
    battery: BatteryHealth | None = None


class ServiceStatus(Contract):
    """Presence of one of our own services (retained; ``offline`` is its last will)."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    service: str = Field(max_length=100)
    state: DeviceState


class ServiceHeartbeat(Contract):
    """Periodic proof of work from one of our services (not retained).

    Presence says a service is connected; the heartbeat says it is still processing:
    ``busy_s`` grows while one message is stuck in its handler, and a missing heartbeat
    means its event loop no longer runs, even if the connection looks alive.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    service: str = Field(max_length=100)
    at: AwareDatetime
    interval_s: float = Field(gt=0)
    handled: int = Field(ge=0, description="messages handled since start")
    errors: int = Field(ge=0, description="failed handler attempts since start")
    busy_s: float = Field(ge=0, description="time the current message has been in the handler")
    retries: int = Field(
        0, ge=0, description="transient failures waited out (database or broker away)"
    )
    dead_letters: int = Field(0, ge=0, description="messages set aside as dead letters")


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is more urgent; used to sort the alert wall and to raise deduped alerts."""
        return {"critical": 3, "high": 2, "medium": 1, "low": 0}[self.value]


class AlertKind(StrEnum):
    CALL_BUTTON = "call_button"
    FALL = "fall"
    INACTIVITY = "inactivity"
    NO_WAKE_UP = "no_wake_up"
    BATHROOM_TOO_LONG = "bathroom_too_long"
    NIGHT_WANDERING = "night_wandering"
    DOOR_LEFT_OPEN = "door_left_open"
    SMOKE = "smoke"
    GAS = "gas"
    WATER_LEAK = "water_leak"
    TEMPERATURE = "temperature"
    DEVICE_OFFLINE = "device_offline"
    HOME_OFFLINE = "home_offline"
    BATTERY_LOW = "battery_low"
    SYSTEM = "system"


class Evidence(Contract):
    """A pointer to the device message that made the detector decide."""

    device: Ident
    seq: int | None = None
    type: str


class LocalizedText(Contract):
    """Every human-facing text exists in Chinese first and English second."""

    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)

    def get(self, lang: str) -> str:
        return self.en if lang.lower().startswith("en") else self.zh_cn


#: What raised an alert, for machines: the rule's view and its context (e.g. ``{"rule":
#: "quiet", "block": 11, "place": "bedroom"}``). Alerting stores it and hands it back with
#: the staff's verdict, so the detector learns from it without remembering every alert.
AlertContext = Annotated[
    dict[Annotated[str, StringConstraints(max_length=40)], str | int | FiniteFloat | bool],
    Field(max_length=16),
]


class Alert(Contract):
    """Raised by the detector, owned from then on by alerting."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    alert_id: Ident
    home: Ident
    kind: AlertKind
    severity: Severity
    raised_at: EventTime
    evidence: list[Evidence] = Field(default_factory=list, max_length=100)
    explanation: LocalizedText
    context: AlertContext | None = None


class ConditionCleared(Contract):
    """The detector's word that a condition it raised an alert for has ended by itself: the
    device is back online, the home's terminal is back, the battery was replaced.

    Published on ``{prefix}/{home}/alerts`` like the alert it ends, so it never overtakes it;
    ``cleared`` (not ``kind``) keeps it from ever reading as an ``Alert``. Alerting resolves
    the home's open alert of that kind as ``recovered``, with ``reason`` in its timeline.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    cleared: AlertKind
    home: Ident
    at: EventTime
    devices: list[Ident] = Field(default_factory=list, max_length=100)
    reason: str = Field(min_length=1, max_length=200)


class AlertStatus(StrEnum):
    OPEN = "open"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    EXPIRED = "expired"

    @property
    def is_active(self) -> bool:
        """Active alerts still need a person; acknowledged ones have one."""
        return self in {AlertStatus.OPEN, AlertStatus.NOTIFIED, AlertStatus.ESCALATED}


class Outcome(StrEnum):
    """How a resolved alert ended: the staff's verdict. KPIs count false alarms, and the
    detector widens the context that raised a false alarm (issue 20)."""

    FALSE_ALARM = "false_alarm"
    HELPED_AT_HOME = "helped_at_home"
    HOSPITAL = "hospital"
    NO_ACTION_NEEDED = "no_action_needed"
    RECOVERED = "recovered"  # a system alert whose service came back by itself
    OTHER = "other"


class AlertUpdate(Contract):
    """One lifecycle step of an alert, as published on ``{prefix}/alerts/{id}/updates``.

    A ``resolved`` step carries the verdict (``outcome``) and the context the detector gave
    the alert, so the verdict can reach the model that raised it.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    alert_id: Ident
    home: Ident
    status: AlertStatus
    at: EventTime
    actor: str | None = Field(default=None, max_length=100)
    channel: str | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=1000)
    outcome: Outcome | None = None
    context: AlertContext | None = None


class QuarantineRecord(Contract):
    """What the gateway publishes for a rejected payload: enough to debug, bounded in size."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    topic: str
    reason: str
    received_at: AwareDatetime
    size: int
    payload_head: str = Field(description="first bytes of the payload, decoded leniently")
    home: str | None = Field(default=None, description="the sender, when the gateway knows it")
    device: str | None = None
    device_rejects: int | None = Field(
        default=None, ge=1, description="rejects from this device since the gateway started"
    )


class DeadLetter(Contract):
    """A message a service failed to handle for a reason that retrying does not cure (a bug,
    a payload no code path accepts), set aside so the messages behind it keep flowing.

    Published at QoS 1 on ``{prefix}/_deadletter/{service}`` and stored by alerting, so it
    is never dropped silently: ``eldercare deadletters`` lists them.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    dead_letter_id: Ident = Field(description="ULID; a redelivered record is the same record")
    service: str = Field(max_length=100)
    topic: str = Field(max_length=1000)
    payload: str = Field(description="the payload (its first 64 KiB), as text or base64")
    payload_encoding: Literal["utf-8", "base64"]
    payload_size: int = Field(ge=0, description="size of the whole payload in bytes")
    error_type: str = Field(max_length=200)
    error: str = Field(max_length=2000)
    first_failed_at: AwareDatetime
    last_failed_at: AwareDatetime
    attempts: int = Field(ge=1)


class RegistrationNeeded(Contract):
    """An unregistered device is talking: published once per device, for an installer."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    topic: str
    source: Literal["native", "zigbee2mqtt"]
    home: str | None = None
    device: str | None = None
    zigbee_name: str | None = None
    first_seen: AwareDatetime
    payload_head: str


class SeriesPoint(Contract):
    """One time-series point (InfluxDB line protocol shape): what the day view plots."""

    measurement: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    tags: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, float | int | bool | str]
    ts: AwareDatetime


class CommandKind(StrEnum):
    ALERT_RECEIVED = "alert_received"
    HELP_COMING = "help_coming"


class DeviceCommand(Contract):
    """Sent to a home's device on ``{prefix}/{home}/{device}/cmd`` to close the loop.

    Residents' top complaint about call buttons is not knowing whether the press got
    through: ``alert_received`` lets the terminal light up at once, ``help_coming`` says
    that a named person has taken responsibility.
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    home: Ident
    device: Ident
    command: CommandKind
    alert_id: Ident
    at: EventTime
    by: str | None = Field(default=None, max_length=100, description="who acknowledged")
    text: LocalizedText | None = None


class DailySummary(Contract):
    """One home's day as the detector saw it, published at the home's local midnight on
    ``{prefix}/_wellbeing/{home}/summary`` (QoS 1) and stored by alerting.

    The night is the one that ended this morning (sleep onset the evening before, wake-up
    today); everything else is this local calendar day. Hours of the night count on from
    the evening (``sleep_onset_h`` 23.5 is 23:30, 25.0 is 01:00), so they average and trend
    without a jump at midnight. ``None`` means the home could not see it (no bedroom sensor,
    nobody home).
    """

    schema_version: Literal[1] = Field(SCHEMA_VERSION, alias="schema")
    home: Ident
    day: date
    sleep_onset_h: float | None = Field(None, ge=12, le=36)
    wake_h: float | None = Field(None, ge=0, le=24)
    in_bed_h: float = Field(ge=0, le=24, description="in bed (or asleep in the bedroom)")
    night_bathroom: int = Field(ge=0, description="bathroom visits between sleep and waking")
    out_h: float = Field(ge=0, le=24)
    outings: int = Field(ge=0)
    door_uses: int = Field(ge=0, description="front door openings")
    meals: int = Field(
        ge=0, le=3, description="meal times (breakfast, lunch, dinner) with kitchen use"
    )
    activity: dict[str, int] = Field(
        default_factory=dict, description="signs of life per room (events)"
    )
    sensors_offline: list[str] = Field(default_factory=list, max_length=100)
    away: bool = Field(False, description="holiday mode: not a day to learn a trend from")


class WellbeingTrend(StrEnum):
    """Slow changes worth a visit: never an alarm, never a page."""

    NIGHT_BATHROOM_UP = "night_bathroom_up"
    ACTIVITY_DOWN = "activity_down"
    WAKE_LATER = "wake_later"
    MEALS_SKIPPED = "meals_skipped"
    OUTINGS_DOWN = "outings_down"
    IN_BED_UP = "in_bed_up"

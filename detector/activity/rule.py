"""The inactivity rule: alerts for what does not happen in a home.

Inactivity longer than expected in the current context, not up by the usual time, too long
in the bathroom, out of the front door at night and not back, front door left open, and
per-home expectations ("kitchen by 10:00"). Silence of the devices themselves is not
inactivity: while every device that reports liveness is quiet, the inactivity alert waits
(``device_health`` raises home_offline), and a single silent sensor is named in the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from detector.activity import feedback
from detector.activity.home import HomeState
from detector.activity.model import BLOCK_H, BLOCKS, ModelSettings, is_night
from detector.activity.sensors import DAY_PLACES, Place, Role, SensorDirectory
from detector.alerts import duration_en, duration_zh, make_alert
from detector.rules import BaseRule, RuleOutput
from eldercare.logs import get_logger
from eldercare.models import (
    Alert,
    AlertKind,
    AlertUpdate,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Evidence,
    SeriesPoint,
    Severity,
    Telemetry,
)

log = get_logger("detector.inactivity")

PLACE_NAMES = {
    Place.BEDROOM: ("卧室", "bedroom"),
    Place.BATHROOM: ("卫生间", "bathroom"),
    Place.KITCHEN: ("厨房", "kitchen"),
    Place.LIVING: ("客厅", "living room"),
    Place.OTHER: ("其他房间", "another room"),
    Place.OUT: ("大门（外出）", "front door (out)"),
    Place.BED: ("床上", "bed"),
    Place.CHAIR: ("椅子上", "chair"),
}
_ACTIVITY_EVENTS = {
    EventType.MOTION,
    EventType.DOOR_OPEN,
    EventType.DOOR_CLOSE,
    EventType.BED_OCCUPIED,
    EventType.BED_EMPTY,
    EventType.CHAIR_OCCUPIED,
    EventType.CHAIR_EMPTY,
    EventType.TOILET_FLUSH,
    EventType.CALL_BUTTON,
    EventType.CANCEL_BUTTON,
}
POINT_EVERY = timedelta(minutes=15)
CHECK_EVERY = timedelta(seconds=60)
#: "Too long in the bathroom" is about someone still moving in there, not silence.
BATH_STILL_ACTIVE = timedelta(minutes=20)


@dataclass(frozen=True)
class Expectation:
    """A family's "kitchen activity by 10:00": activity in ``places`` by ``by_h`` local."""

    name: str
    places: frozenset[Place]
    by_h: float


@dataclass
class HomeConfig:
    tz: str = "Asia/Shanghai"
    #: "Out of bed by 9:00": overrides the learned wake-up hour (tolerance still added).
    wake_by_h: float | None = None
    expectations: list[Expectation] = field(default_factory=list)
    door_open_min: float = 15.0
    wander_min: float = 20.0


@dataclass(frozen=True)
class InactivitySettings:
    model: ModelSettings = field(default_factory=ModelSettings)
    liveness: timedelta = timedelta(minutes=30)
    default_tz: str = "Asia/Shanghai"


class InactivityRule(BaseRule):
    name = "inactivity"
    kinds = frozenset(
        {
            AlertKind.INACTIVITY,
            AlertKind.NO_WAKE_UP,
            AlertKind.BATHROOM_TOO_LONG,
            AlertKind.NIGHT_WANDERING,
            AlertKind.DOOR_LEFT_OPEN,
        }
    )

    def __init__(
        self,
        settings: InactivitySettings | None = None,
        directory: SensorDirectory | None = None,
        configs: dict[str, HomeConfig] | None = None,
    ) -> None:
        self.settings = settings or InactivitySettings()
        self.directory = directory or SensorDirectory()
        self.configs = configs or {}
        self.homes: dict[str, HomeState] = {}

    # -- staff controls -------------------------------------------------------------------

    def set_away(self, home: str, until: datetime | None, reason: str = "") -> None:
        """Holiday mode ("in hospital until Friday"): no routine alerts until ``until``.

        ``None`` ends it now. When ``until`` passes without any sign of life since it was
        set, the resident is expected back through the front door, and the usual
        out-of-home threshold applies from then on; if they came back early, the context
        of their last activity stands.
        """
        state = self._home(home)
        state.away_until, state.away_reason = until, reason
        state.away_marker = state.last_ts
        log.info("away_mode_set", home=home, until=until.isoformat() if until else None)

    def follow_away(self, home: str, until: datetime | None, reason: str, now: datetime) -> None:
        """Holiday mode as the staff last set it (read again every minute): only a change
        counts, so the moment it began is kept; an end set by staff is handled like an end
        date reached (back through the front door unless seen at home since)."""
        state = self.homes.get(home)
        current = state.away_until if state is not None else None
        if until == current:
            return
        if until is None:
            if state is not None and current is not None and current > now:
                state.away_until = now  # the next check ends it
                state.next_check = None
            return
        if state is not None and current is not None:
            state.away_until, state.away_reason = until, reason  # moved: still the same stay
            return
        self.set_away(home, until, reason)

    def configure(self, home: str, config: HomeConfig) -> None:
        """Per-home expectations ("kitchen activity by 10:00", "out of bed by 9:00")."""
        self.configs[home] = config
        if home in self.homes:
            self.homes[home].tz = ZoneInfo(config.tz)

    def set_routine(
        self, home: str, wake_by_h: float | None, expectations: list[Expectation]
    ) -> None:
        """The family's routine for a home (its time zone and other settings stay)."""
        config = self._config(home)
        if (config.wake_by_h, config.expectations) != (wake_by_h, expectations):
            self.configure(home, replace(config, wake_by_h=wake_by_h, expectations=expectations))

    def set_timezone(self, home: str, tz: str) -> None:
        config = self.configs.setdefault(home, HomeConfig(tz=tz))
        if config.tz != tz:
            self.configure(home, replace(config, tz=tz))

    def _config(self, home: str) -> HomeConfig:
        return self.configs.get(home) or HomeConfig(tz=self.settings.default_tz)

    def _home(self, home: str) -> HomeState:
        state = self.homes.get(home)
        if state is None:
            state = HomeState(home=home, tz=ZoneInfo(self._config(home).tz))
            self.homes[home] = state
        return state

    # -- messages -------------------------------------------------------------------------

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        state = self._home(event.home)
        if state.duplicate(event.device, event.seq):
            return RuleOutput()
        state.heard(event.device, now, liveness=event.type is EventType.HEARTBEAT)
        if event.type not in _ACTIVITY_EVENTS:
            return RuleOutput()
        ts = min(event.ts, now + timedelta(minutes=5))
        contact = event.type in (EventType.DOOR_OPEN, EventType.DOOR_CLOSE)
        info = self.directory.lookup(event.home, event.device, contact=contact)
        if info.role is Role.IGNORE and event.type is not EventType.CALL_BUTTON:
            return RuleOutput()
        place = info.place
        front_door = contact and info.role is Role.FRONT_DOOR
        if event.type is EventType.BED_OCCUPIED:
            state.bed, place = True, Place.BED
        elif event.type is EventType.BED_EMPTY:
            state.bed = False
            place = Place.BEDROOM if info.place is Place.BED else info.place
        elif event.type is EventType.CHAIR_OCCUPIED:
            state.chair, place = True, Place.CHAIR
        elif event.type is EventType.CHAIR_EMPTY:
            state.chair = False
            place = Place.LIVING if info.place is Place.CHAIR else info.place
        elif event.type is EventType.TOILET_FLUSH:
            place = Place.BATHROOM
        elif state.bed and place is Place.BEDROOM:
            place = Place.BED  # the bedroom sensor sees the sleeper turn: still in bed
        elif not contact and place is Place.OUT:
            place = Place.OTHER  # a non-contact device at the door: someone in the hall
        if front_door:
            self._front_door(state, event, ts)
        state.activity(
            ts,
            place,
            device=event.device,
            seq=event.seq,
            label=info.label,
            front_door=front_door,
            settings=self.settings.model,
            presence=info.presence and event.type is not EventType.TOILET_FLUSH,
        )
        return RuleOutput()

    @staticmethod
    def _front_door(state: HomeState, event: Event, ts: datetime) -> None:
        """Open/closed by event time: a close delayed behind a later open (or an open behind
        a later close) must not leave the door "open" for ever and raise door_left_open."""
        if event.type is EventType.DOOR_OPEN:
            if state.door_closed_at is None or ts > state.door_closed_at:
                state.door_open_since = state.door_open_since or ts
                state.door_device = event.device
            return
        if state.door_open_since is None or ts >= state.door_open_since:
            state.door_open_since = None
            state.pending.door = ""
        state.door_closed_at = max(ts, state.door_closed_at or ts)

    def on_telemetry(self, telemetry: Telemetry, now: datetime) -> RuleOutput:
        self._home(telemetry.home).heard(telemetry.device, now, liveness=True)
        return RuleOutput()

    def on_verdict(self, update: AlertUpdate, now: datetime) -> RuleOutput:
        """Staff resolved one of our alerts: a false alarm widens the context that raised it
        (a real one undoes that), for this home only; see ``feedback``."""
        state = self.homes.get(update.home)
        if state is None or update.outcome is None or not update.context:
            return RuleOutput()
        day = state.local(update.at).toordinal()
        state.model.widening = feedback.judge(state.model.widening, update, day)
        if state.last_ts is not None:  # the quiet going on now is judged by the new limit
            state.threshold_h = state.limit_h(self.settings.model)
        return RuleOutput()

    def on_status(self, status: DeviceStatus, now: datetime) -> RuleOutput:
        self._home(status.home).status(
            status.device,
            now,
            online=status.state is DeviceState.ONLINE,
            reason=status.reason or "",
        )
        return RuleOutput()

    # -- the clock ------------------------------------------------------------------------

    def on_tick(self, now: datetime) -> RuleOutput:
        output = RuleOutput()
        for state in self.homes.values():
            output.extend(self._check(state, now))
        return output

    def _check(self, state: HomeState, now: datetime) -> RuleOutput:
        output = RuleOutput()
        if state.last_ts is None or (state.next_check is not None and now < state.next_check):
            return output
        # Nothing here is urgent to the second; checking each home once a minute keeps a
        # 10-second tick affordable with many homes.
        state.next_check = now + CHECK_EVERY
        config = self._config(state.home)
        if state.away_until is not None and now >= state.away_until:
            self._end_away(state)
        if state.away(now):
            return self._point(state, now, output, "holiday")
        liveness = self.settings.liveness
        if state.offline_home(now, liveness):
            return self._point(state, now, output, "offline")
        silent = state.silent_devices(now, liveness)
        for alert in (
            self._inactivity(state, now, silent),
            self._no_wake_up(state, now, config, silent),
            self._bathroom(state, now),
            self._door_left_open(state, now, config),
            self._wandering(state, now, config),
            *self._expectations(state, now, config),
        ):
            if alert is not None:
                output.alerts.append(alert)  # the detector service logs every alert it emits
        return self._point(state, now, output, self._state_name(state, now))

    def _end_away(self, state: HomeState) -> None:
        assert state.away_until is not None
        # Seen at home since holiday mode began: back early, the context stands as it is.
        if state.last_ts is None or state.last_ts == state.away_marker:
            state.last_ts, state.last_place = state.away_until, Place.OUT
            state.context_place = Place.OUT
            state.context_hour = state.hour(state.away_until)
            state.threshold_h = state.limit_h(self.settings.model)
            state.pending.inactivity = ""
        state.away_until, state.away_reason = None, ""

    def _state_name(self, state: HomeState, now: datetime) -> str:
        if state.last_place is Place.OUT:
            return "away"
        if state.visitor(now):
            return "visitor"
        if state.bed or (
            state.context_place is Place.BEDROOM and is_night(state.hour(now), self.settings.model)
        ):
            return "asleep"
        return "home"

    def _point(self, state: HomeState, now: datetime, output: RuleOutput, name: str) -> RuleOutput:
        if state.last_point is not None and now - state.last_point < POINT_EVERY:
            return output
        state.last_point = now
        quiet_h = (now - state.last_ts).total_seconds() / 3600 if state.last_ts else 0.0
        output.points.append(
            SeriesPoint(
                measurement="activity_state",
                tags={"home": state.home, "rule": self.name},
                fields={
                    "state": name,
                    "quiet_min": round(quiet_h * 60, 1),
                    "expected_min": round(state.threshold_h * 60, 1),
                    "score": round(quiet_h / state.threshold_h, 3) if state.threshold_h else 0.0,
                },
                ts=now,
            )
        )
        return output

    # -- the checks -----------------------------------------------------------------------

    def _inactivity(self, state: HomeState, now: datetime, silent: list[str]) -> Alert | None:
        assert state.last_ts is not None
        quiet_h = (now - state.last_ts).total_seconds() / 3600
        key = state.last_ts.isoformat()
        if state.pending.inactivity == key or quiet_h < self.settings.model.floor_h:
            return None
        seen_h = None
        if quiet_h < state.threshold_h:
            seen_h = state.model.unusual_now(
                state.context_hour,
                state.context_place,
                state.hour(now),
                quiet_h,
                self.settings.model,
            )
            if seen_h is None:
                return None
        state.pending.inactivity = key
        since = state.local(state.last_ts).strftime("%H:%M")
        zh_place, en_place = PLACE_NAMES[state.last_place]
        if seen_h is None:
            where = "外出" if state.last_place is Place.OUT else f"在{zh_place}"
            why_zh = f"此时段{where}通常不超过 {duration_zh(state.threshold_h)}"
            why_en = f"expected at most {duration_en(state.threshold_h)} at this time of day"
        else:
            around = state.local(now).strftime("%H:00")
            why_zh = f"以往 {around} 前后最长 {duration_zh(seen_h)}，比此前任何一次都长"
            why_en = (
                f"longer than ever before; around {around} at most {duration_en(seen_h)} so far"
            )
        learned = f"（{why_zh}，已学习 {state.model.days:.0f} 天）"
        learned_en = f" ({why_en}, learned over {state.model.days:.0f} days)"
        if state.last_place is Place.OUT:
            night = state.left_at_night
            kind = AlertKind.NIGHT_WANDERING if night else AlertKind.INACTIVITY
            zh = f"{since} 经大门外出后 {duration_zh(quiet_h)} 未回家、家中无活动{learned}。"
            en = (
                f"Left through the front door at {since} and not back for "
                f"{duration_en(quiet_h)}, no activity at home{learned_en}."
            )
        else:
            # Silent in the bathroom is the bathroom emergency (a fall by the bath or toilet),
            # named as such so the responder knows where to look, as wandering is for "out".
            in_bath = state.last_place is Place.BATHROOM
            if in_bath and not _first_of_bath_stay(state):
                return None
            kind = AlertKind.BATHROOM_TOO_LONG if in_bath else AlertKind.INACTIVITY
            zh = (
                f"自 {since}（{zh_place}，{state.last_label}）起 "
                f"{duration_zh(quiet_h)} 无任何活动{learned}。"
            )
            en = (
                f"No activity for {duration_en(quiet_h)} since {since} in the {en_place} "
                f"({state.last_label}){learned_en}."
            )
        zh, en = _with_silent(zh, en, silent)
        view = feedback.QUIET if seen_h is None else feedback.HOURLY
        block = int(state.context_hour // BLOCK_H) % BLOCKS
        return make_alert(
            home=state.home,
            kind=kind,
            severity=Severity.HIGH,
            at=now,
            key=key,
            zh=zh,
            en=en,
            evidence=_evidence(state),
            context=feedback.quiet_context(
                view, block, state.last_place, self._state_name(state, now)
            ),
        )

    def _no_wake_up(
        self, state: HomeState, now: datetime, config: HomeConfig, silent: list[str]
    ) -> Alert | None:
        local = state.local(now)
        hour = state.hour(now)
        weekend = local.weekday() >= 5
        model = self.settings.model
        if config.wake_by_h is not None:
            deadline = config.wake_by_h + model.wake_tolerance_h
        else:
            deadline = state.model.wake_deadline_h(weekend, model)
        day = local.toordinal()
        if (
            hour < deadline
            or hour >= 16
            or state.pending.wake_day == day
            or state.last_place is Place.OUT
            or state.up_since_night(now)
        ):
            return None
        state.pending.wake_day = day
        due = f"{int(deadline):02d}:{round(deadline % 1 * 60):02d}"
        zh, en = _with_silent(
            f"到 {due} 仍未起床：今天还没有在{_day_rooms_zh()}检测到活动（通常此前已起床）。",
            f"Not up by {due}: no activity yet today in the {_day_rooms_en()} "
            "(normally up before this time).",
            silent,
        )
        return make_alert(
            home=state.home,
            kind=AlertKind.NO_WAKE_UP,
            severity=Severity.HIGH,
            at=now,
            key=str(day),
            zh=zh,
            en=en,
            evidence=_evidence(state),
            context=feedback.wake_context(weekend),
        )

    def _bathroom(self, state: HomeState, now: datetime) -> Alert | None:
        if state.bath_since is None or state.last_place is not Place.BATHROOM:
            return None
        if state.last_ts is None or now - state.last_ts > BATH_STILL_ACTIVE:
            return None  # quiet in the bathroom is the inactivity check's (learned) business
        night = is_night(state.hour(state.bath_since), self.settings.model)
        limit_min = state.model.bath_threshold_min(night, self.settings.model)
        stay = now - state.bath_since
        key = state.bath_since.isoformat()
        if stay < timedelta(minutes=limit_min) or not _first_of_bath_stay(state):
            return None
        stay_h = stay.total_seconds() / 3600
        since = state.local(state.bath_since).strftime("%H:%M")
        return make_alert(
            home=state.home,
            kind=AlertKind.BATHROOM_TOO_LONG,
            severity=Severity.HIGH,
            at=now,
            key=key,
            zh=f"自 {since} 起在卫生间已 {duration_zh(stay_h)}，"
            f"通常不超过 {duration_zh(limit_min / 60)}。",
            en=f"In the bathroom since {since} for {duration_en(stay_h)}; "
            f"usually out within {duration_en(limit_min / 60)}.",
            evidence=_evidence(state),
            context=feedback.bath_context(night),
        )

    def _door_left_open(self, state: HomeState, now: datetime, config: HomeConfig) -> Alert | None:
        opened = state.door_open_since
        if opened is None:
            return None
        key = opened.isoformat()
        if now - opened < timedelta(minutes=config.door_open_min) or state.pending.door == key:
            return None
        state.pending.door = key
        open_h = (now - opened).total_seconds() / 3600
        since = state.local(opened).strftime("%H:%M")
        return make_alert(
            home=state.home,
            kind=AlertKind.DOOR_LEFT_OPEN,
            severity=Severity.MEDIUM,
            at=now,
            key=key,
            zh=f"大门自 {since} 起已打开 {duration_zh(open_h)}，未关闭"
            f"（超过 {config.door_open_min:.0f} 分钟）。",
            en=f"Front door open since {since} for {duration_en(open_h)} "
            f"(more than {config.door_open_min:.0f} min).",
            evidence=[Evidence(device=state.door_device or state.last_device, type="door_open")],
        )

    def _wandering(self, state: HomeState, now: datetime, config: HomeConfig) -> Alert | None:
        left = state.left_at
        if left is None or not state.left_at_night or state.last_place is not Place.OUT:
            return None
        key = left.isoformat()
        if now - left < timedelta(minutes=config.wander_min) or state.pending.wander == key:
            return None
        state.pending.wander = key
        # The long-absence inactivity alert for this outing would say the same thing later.
        state.pending.inactivity = state.last_ts.isoformat() if state.last_ts else ""
        out_h = (now - left).total_seconds() / 3600
        since = state.local(left).strftime("%H:%M")
        return make_alert(
            home=state.home,
            kind=AlertKind.NIGHT_WANDERING,
            severity=Severity.HIGH,
            at=now,
            key=key,
            zh=f"夜间 {since} 大门打开后 {duration_zh(out_h)} 家中无活动，可能外出未归"
            f"（夜间外出超过 {config.wander_min:.0f} 分钟）。",
            en=f"Front door used at night at {since} and no activity at home for "
            f"{duration_en(out_h)}: possibly out and not back "
            f"(more than {config.wander_min:.0f} min at night).",
            evidence=_evidence(state),
        )

    def _expectations(self, state: HomeState, now: datetime, config: HomeConfig) -> list[Alert]:
        alerts: list[Alert] = []
        local = state.local(now)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        day = local.toordinal()
        for expectation in config.expectations:
            if state.hour(now) < expectation.by_h:
                continue
            raised = state.pending.expectations or {}
            if raised.get(expectation.name) == day:
                continue
            if any(state.last_at[p] >= midnight for p in expectation.places):
                continue
            state.pending.expectations = {**raised, expectation.name: day}
            due = f"{int(expectation.by_h):02d}:{round(expectation.by_h % 1 * 60):02d}"
            alerts.append(
                make_alert(
                    home=state.home,
                    kind=AlertKind.INACTIVITY,
                    severity=Severity.MEDIUM,
                    at=now,
                    key=f"{expectation.name}|{day}",
                    zh=f"约定「{expectation.name}」：到 {due} 仍未检测到相应活动。",
                    en=f"Expected '{expectation.name}' by {due}; not seen today.",
                    evidence=_evidence(state),
                )
            )
        return alerts

    # -- checkpoint -----------------------------------------------------------------------

    def snapshot(self) -> bytes:
        return json.dumps(
            {home: state.to_dict() for home, state in self.homes.items()}, separators=(",", ":")
        ).encode()

    def restore(self, data: bytes) -> None:
        loaded = json.loads(data)
        self.homes = {home: HomeState.from_dict(home, item) for home, item in loaded.items()}


def _first_of_bath_stay(state: HomeState) -> bool:
    """One bathroom stay is one alert, whichever check sees it first: the silence in the
    bathroom (``_inactivity``) or the stay running past its limit while moving (``_bathroom``).
    A later twitch of the sensor after a silence alert is the same emergency, not a new one."""
    if state.bath_since is None:
        return True
    key = state.bath_since.isoformat()
    if state.pending.bath == key:
        return False
    state.pending.bath = key
    return True


def _evidence(state: HomeState) -> list[Evidence]:
    if not state.last_device:
        return []
    return [Evidence(device=state.last_device, seq=state.last_seq, type="last_activity")]


def _with_silent(zh: str, en: str, silent: list[str]) -> tuple[str, str]:
    """Say which sensors could not have seen anything, so staff weigh the alert right."""
    if not silent:
        return zh, en
    names = ", ".join(silent[:5])
    return (
        f"{zh} 注意：以下传感器无信号，仍以其余传感器继续监测：{names}。",
        f"{en} Note: silent sensors ({names}); still watching with the others.",
    )


def _day_rooms_zh() -> str:
    return "、".join(PLACE_NAMES[p][0] for p in sorted(DAY_PLACES) if p is not Place.OUT)


def _day_rooms_en() -> str:
    return ", ".join(PLACE_NAMES[p][1] for p in sorted(DAY_PLACES) if p is not Place.OUT)

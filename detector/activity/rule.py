"""The inactivity rule: alerts for what does not happen in a home.

Inactivity longer than expected in the current context, not up by the usual time, too long
in the bathroom, out of the front door at night and not back, front door left open, and
per-home expectations ("kitchen by 10:00"). Silence of the devices themselves is not
inactivity: while every device that reports liveness is quiet, the inactivity alert waits
(``device_health`` raises home_offline), and a single silent sensor is named in the text.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from detector.activity import away, feedback
from detector.activity.findings import FINDINGS, Check, missed_expectations, state_name
from detector.activity.home import HomeState
from detector.activity.home_config import Expectation, HomeConfig
from detector.activity.model import ModelSettings
from detector.activity.sensors import Place, Role, SensorDirectory
from detector.activity.snapshot import COMPRESSED, HomesSnapshot
from detector.rules import BaseRule, RuleOutput, whole_tick
from eldercare.logs import get_logger
from eldercare.models import (
    AlertKind,
    AlertUpdate,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    SeriesPoint,
    Telemetry,
)

log = get_logger("detector.inactivity")

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
#: Homes checked per part of a tick: ~50 µs each when idle, so a few ms a part.
TICK_PART_HOMES = 100


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
        #: The checkpoint being written in parts, if one is (``snapshot_in_parts``).
        self._snapshot: HomesSnapshot | None = None

    # -- staff controls -------------------------------------------------------------------

    def set_away(self, home: str, until: datetime | None, reason: str = "") -> None:
        """Holiday mode ("in hospital until Friday"): no routine alerts until ``until``
        (``None`` ends it now); see ``away``."""
        away.begin(self._home(home), until, reason)
        log.info("away_mode_set", home=home, until=until.isoformat() if until else None)

    def follow_away(self, home: str, until: datetime | None, reason: str, now: datetime) -> None:
        """Holiday mode as the staff last set it on the dashboard (read every minute)."""
        self._before_change(home)
        if away.follow(self.homes.get(home), until, reason, now):
            self.set_away(home, until, reason)

    def configure(self, home: str, config: HomeConfig) -> None:
        """Per-home expectations ("kitchen activity by 10:00", "out of bed by 9:00")."""
        self.configs[home] = config
        if home in self.homes:
            self._before_change(home)
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

    def _before_change(self, home: str) -> None:
        """Every path that changes a home's state calls this first: a checkpoint being
        written keeps the home as it was when the checkpoint began (``snapshot``)."""
        if self._snapshot is not None:
            self._snapshot.before_change(home)

    def _home(self, home: str) -> HomeState:
        """The home's state, about to change (created if new)."""
        self._before_change(home)
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
        elif state.chair and place is Place.LIVING:
            place = Place.CHAIR  # a drawer by the armchair, the seat still occupied
        elif not contact and place is Place.OUT:
            place = Place.OTHER  # a non-contact device at the door: someone in the hall
        if front_door:
            self._front_door(state, event, ts)
        standing = state.alarm_standing
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
        if standing and not state.alarm_standing:
            log.info("silence_incident_over", home=event.home, device=event.device)
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
        self._before_change(update.home)
        if update.context.get("rule") in feedback.SILENCE and state.alarm_standing:
            state.alarm_standing = False  # staff have closed the incident: watch afresh
            log.info("silence_incident_closed", home=update.home, alert_id=update.alert_id)
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
        return whole_tick(self, now)

    def tick_in_parts(self, now: datetime) -> Iterator[RuleOutput]:
        """The tick, ``TICK_PART_HOMES`` homes a part, so that the detector can serve
        messages between parts: every minute each home is checked, all in the same tick,
        and at 10 000 homes that walk took 0.3-0.5 s of the event loop (issue 18)."""
        homes = list(self.homes.values())
        for start in range(0, len(homes), TICK_PART_HOMES):
            output = RuleOutput()
            for state in homes[start : start + TICK_PART_HOMES]:
                if self.homes.get(state.home) is state:  # not dropped meanwhile
                    output.extend(self._check(state, now))
            yield output

    def _check(self, state: HomeState, now: datetime) -> RuleOutput:
        output = RuleOutput()
        if state.last_ts is None or (state.next_check is not None and now < state.next_check):
            return output
        # Nothing here is urgent to the second; checking each home once a minute keeps a
        # 10-second tick affordable with many homes.
        self._before_change(state.home)
        state.next_check = now + CHECK_EVERY
        config = self._config(state.home)
        if state.away_until is not None and now >= state.away_until:
            away.end(state, self.settings.model)
        if state.away(now):
            return self._point(state, now, output, "holiday")
        liveness = self.settings.liveness
        if state.offline_home(now, liveness):
            return self._point(state, now, output, "offline")
        check = Check(now, config, self.settings.model, state.silent_devices(now, liveness))
        found = [finding(state, check) for finding in FINDINGS]
        # The detector service logs every alert it emits.
        output.alerts.extend(alert for alert in found if alert is not None)
        output.alerts.extend(missed_expectations(state, check))
        return self._point(state, now, output, state_name(state, now, self.settings.model))

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

    # -- checkpoint -----------------------------------------------------------------------

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget the homes ``keep`` refuses (a single instance's state split by shard)."""
        self.homes = {home: state for home, state in self.homes.items() if keep(home)}

    def snapshot(self) -> bytes:
        """The homes' state as JSON, deflated (``COMPRESSED``): a home's learned arrays are
        mostly contexts it never uses, and the keys repeat in every home, so the checkpoint
        shrinks several times (DESIGN §8) for a few µs per home at level 1."""
        writer = HomesSnapshot(self.homes)
        writer.step(len(self.homes))
        return writer.finish()

    def snapshot_in_parts(self) -> Generator[None, None, bytes]:
        """``snapshot()`` of the instant of the first ``next()``, written a part per
        ``next()`` (``detector.activity.snapshot``); the rule keeps serving in between."""
        if self._snapshot is not None:
            raise RuntimeError("a snapshot is being written already")
        writer = self._snapshot = HomesSnapshot(self.homes)
        try:
            while not writer.step():
                yield
            return writer.finish()
        finally:
            self._snapshot = None

    def restore(self, data: bytes) -> None:
        """Either format: deflated (``COMPRESSED``), or the plain JSON written before it."""
        if data.startswith(COMPRESSED):
            data = zlib.decompress(data[len(COMPRESSED) :])
        loaded = json.loads(data)
        self.homes = {home: HomeState.from_dict(home, item) for home, item in loaded.items()}

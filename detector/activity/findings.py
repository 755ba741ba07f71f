"""The findings of the inactivity rule, one function each: ``(state, check) -> alert``.

Each reads one home's state and what is being checked now (the time, the home's settings,
the method's knobs, the sensors known to be silent) and returns the alert it finds, or
nothing; the only state it writes is its own pending key, so a finding is raised once. The
rule (``rule.py``) runs them in order on every check of a home; adding a finding is adding a
function to ``FINDINGS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from detector.activity import feedback
from detector.activity.home import HomeState
from detector.activity.home_config import HomeConfig
from detector.activity.model import BLOCK_H, BLOCKS, ModelSettings, is_night
from detector.activity.sensors import DAY_PLACES, Place
from detector.alerts import duration_en, duration_zh, make_alert
from eldercare.models import Alert, AlertKind, Evidence, Severity

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
#: "Too long in the bathroom" is about someone still moving in there, not silence.
BATH_STILL_ACTIVE = timedelta(minutes=20)


@dataclass(frozen=True)
class Check:
    """What one check of a home is judged against."""

    now: datetime
    config: HomeConfig
    model: ModelSettings
    silent: Sequence[str] = ()


def state_name(state: HomeState, now: datetime, model: ModelSettings) -> str:
    """The home's state as the activity series and the feedback table name it."""
    if state.last_place is Place.OUT:
        return "away"
    if state.visitor(now):
        return "visitor"
    if state.bed or (state.context_place is Place.BEDROOM and is_night(state.hour(now), model)):
        return "asleep"
    return "home"


def inactivity(state: HomeState, check: Check) -> Alert | None:
    """Quiet longer than the context it began in allows (or unusual for the hour of the
    day); silent in the bathroom it is the bathroom emergency, out of the door at night the
    outing that did not come back."""
    now, silent = check.now, check.silent
    assert state.last_ts is not None
    quiet_h = (now - state.last_ts).total_seconds() / 3600
    key = state.last_ts.isoformat()
    if state.pending.inactivity == key or quiet_h < check.model.floor_h:
        return None
    if state.alarm_standing:
        return None  # the silence alert raised before still stands: one incident, one alert
    seen_h = None
    if quiet_h < state.threshold_h:
        seen_h = state.model.unusual_now(
            state.context_hour,
            state.context_place,
            state.hour(now),
            quiet_h,
            check.model,
            anywhere=state.after_instant,
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
        # After an instant the hours of every place were read (``unusual_now(anywhere=)``).
        anywhere_zh, anywhere_en = (
            ("家中各处", " anywhere at home") if state.after_instant else ("", "")
        )
        why_zh = f"以往 {around} 前后{anywhere_zh}最长 {duration_zh(seen_h)}，比此前任何一次都长"
        why_en = (
            f"longer than ever before; around {around} at most {duration_en(seen_h)}"
            f"{anywhere_en} so far"
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
    state.alarm_standing = True
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
            view, block, state.last_place, state_name(state, now, check.model)
        ),
    )


def no_wake_up(state: HomeState, check: Check) -> Alert | None:
    """Nothing in a day room since the night by the home's usual wake-up (or the family's
    "out of bed by")."""
    now, config, silent = check.now, check.config, check.silent
    local = state.local(now)
    hour = state.hour(now)
    weekend = local.weekday() >= 5
    model = check.model
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
        or not (state.watched_the_night(now) or state.bed)
    ):
        return None
    state.pending.wake_day = day
    if state.alarm_standing:
        return None  # still the silence the standing alert is about
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


def bathroom_too_long(state: HomeState, check: Check) -> Alert | None:
    """Still moving in the bathroom past the usual stay (silence there is ``inactivity``)."""
    now = check.now
    if state.bath_since is None or state.last_place is not Place.BATHROOM:
        return None
    if state.last_ts is None or now - state.last_ts > BATH_STILL_ACTIVE:
        return None  # quiet in the bathroom is the inactivity check's (learned) business
    night = is_night(state.hour(state.bath_since), check.model)
    limit_min = state.model.bath_threshold_min(night, check.model)
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


def door_left_open(state: HomeState, check: Check) -> Alert | None:
    now, config = check.now, check.config
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


def night_wandering(state: HomeState, check: Check) -> Alert | None:
    """Out of the front door at night and no sign of life at home since."""
    now, config = check.now, check.config
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


def missed_expectations(state: HomeState, check: Check) -> list[Alert]:
    """The family's "kitchen by 10:00" not seen today, once per expectation and day."""
    now, config = check.now, check.config
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


Finding = Callable[[HomeState, Check], Alert | None]
FINDINGS: tuple[Finding, ...] = (
    inactivity,
    no_wake_up,
    bathroom_too_long,
    door_left_open,
    night_wandering,
)


def _first_of_bath_stay(state: HomeState) -> bool:
    """One bathroom stay is one alert, whichever check sees it first: the silence in the
    bathroom (``inactivity``) or the stay running past its limit while moving
    (``bathroom_too_long``). A later twitch of the sensor after a silence alert is the same
    emergency, not a new one."""
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


def _with_silent(zh: str, en: str, silent: Sequence[str]) -> tuple[str, str]:
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

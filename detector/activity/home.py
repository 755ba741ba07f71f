"""One home's live state: where the last sign of life came from, and what is pending.

Pure state transitions driven by event time; no clock, no I/O. ``rule.py`` asks it what is
overdue and turns that into alerts. Everything here is serialisable for the checkpoint.
"""

from __future__ import annotations

import itertools
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from detector.activity.model import ActivityModel, ModelSettings, is_night
from detector.activity.sensors import DAY_PLACES, PLACE_COUNT, Place
from detector.packed import PackedInts
from eldercare.models import HOME_GATEWAY_DEVICE

#: Events later than this behind the newest one are too late to change the context.
LATENESS = timedelta(minutes=10)
#: Motion right after the front door closes is the hall/porch sensor seeing the person leave.
DOOR_SETTLE = timedelta(seconds=90)
#: Door events this soon after coming home belong to the arrival, not to leaving again.
ARRIVAL_GRACE = timedelta(minutes=5)
RETURN_CONFIRM = timedelta(minutes=5)
#: One device firing again this long after its last sign is a second sign, not the same one.
REFIRE = timedelta(seconds=30)
VISITOR_WINDOW = timedelta(seconds=60)
VISITOR_HOLD = timedelta(hours=1)
#: The hours of the night when someone who went to bed is asleep, not getting ready for it.
DEEP_NIGHT_END_H = 5.0
#: A home sees sleep while its bedroom or bed reported in the deep night this recently.
SLEEP_SEEN_FOR = timedelta(days=7)
#: Motion signs kept for telling a visitor (``_note_visitor``).
RECENT = 8
SEQ_WINDOW = 64
WINDOW_MASK = (1 << SEQ_WINDOW) - 1
#: Flags below the last-seen second in ``HomeState.devices``.
LIVE = 1  # the device heartbeats (its silence means something)
ONLINE = 2  # the gateway's last status said online
FLAG_BITS = 2
#: Bits of a ``HomeState.devices`` entry below its seq window: last heard (whole epoch
#: seconds, 40 bits) and the flags. The checkpoint keeps the two parts apart, as before.
HEARD_BITS = 40 + FLAG_BITS
HEARD_MASK = (1 << HEARD_BITS) - 1


#: Numbers in ``HomeState.times``: last sign per place, recent signs, three of the quiet.
TIMES = PLACE_COUNT + RECENT + 3


class _InTimes:
    """A float attribute of ``HomeState`` kept in its ``times`` array."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __get__(self, state: HomeState, owner: type | None = None) -> float:
        return state.times[self.index]

    def __set__(self, state: HomeState, value: float) -> None:
        state.times[self.index] = value


class DeviceWords(PackedInts):
    """``HomeState.devices``: a seq below 2**63 and its 64-bit window above 42 bits of last
    heard and flags fit 22 bytes."""

    __slots__ = ()
    WIDTH = 22


@dataclass(slots=True)
class Pending:
    """Alerts already raised, keyed by what they were about, so none is raised twice."""

    inactivity: str = ""
    wake_day: int = -1
    bath: str = ""
    door: str = ""
    wander: str = ""
    #: Family expectation -> the day it was raised; None until the first (an empty dict
    #: costs 64 bytes in every home, and most homes have no expectations).
    expectations: dict[str, int] | None = None


@dataclass(slots=True)
class Seldom:
    """``HomeState``'s fields that most homes never set: holiday mode, a visitor, a return
    not yet confirmed, a device the gateway says is down, events dropped as too late. Apart,
    they cost a home nothing until one is set (7 slots, 56 bytes, in each of 100 k homes)."""

    tentative: datetime | None = None
    visitor_until: datetime | None = None
    away_until: datetime | None = None
    away_reason: str = ""
    away_marker: datetime | None = None
    offline: dict[str, str] | None = None
    late_dropped: int = 0


_NOTHING_SET = Seldom()


class _Seldom:
    """An attribute of ``HomeState`` kept in its ``seldom`` part: reads the default while
    there is none, and setting the default makes none."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, state: HomeState, owner: type | None = None) -> Any:
        return getattr(state.seldom or _NOTHING_SET, self.name)

    def __set__(self, state: HomeState, value: Any) -> None:
        if state.seldom is None:
            if value == getattr(_NOTHING_SET, self.name):
                return
            state.seldom = Seldom()
        setattr(state.seldom, self.name, value)


@dataclass(slots=True)
class HomeState:
    home: str
    tz: ZoneInfo
    model: ActivityModel = field(default_factory=ActivityModel)
    last_ts: datetime | None = None
    last_place: Place = Place.OTHER
    last_label: str = ""
    last_device: str = ""
    last_seq: int | None = None
    #: The place the model judges the quiet by: ``last_place``, or the bedroom when the
    #: home cannot see sleep and the evening has reached its bedtime (``context_of``).
    context_place: Place = Place.OTHER
    #: The last sign of life was an instant (a cupboard, a door, a switch, a flush), not
    #: someone seen there: the quiet since is a spell to the next thing touched.
    after_instant: bool = False
    #: A silence alert (``findings.inactivity``) was raised and nothing since has looked
    #: like the resident: a lone sign (one sensor once, hours apart) does not end the
    #: incident, two close together do (``_confirms``), and so does staff's verdict.
    #: While it stands, neither that finding nor ``no_wake_up`` raises the silence again.
    alarm_standing: bool = False
    #: Epoch seconds of the last sign of life per place, then the last few motion signs as
    #: whole epoch seconds * 8 + place (exact in float64), then ``context_hour``,
    #: ``threshold_h`` and ``slept_at``: one array of float64, not two numpy arrays (each
    #: costs ~100 bytes of header) and three float objects (24 bytes each); ``last_at`` and
    #: ``recent`` are numpy views of it.
    times: array[float] = field(default_factory=lambda: array("d", [0.0]) * TIMES)
    bed: bool = False
    chair: bool = False
    bath_since: datetime | None = None
    door_open_since: datetime | None = None
    door_closed_at: datetime | None = None
    door_device: str = ""
    left_at: datetime | None = None
    left_at_night: bool = False
    arrived_at: datetime | None = None
    #: device -> (window + 1) << HEARD_BITS | last heard (whole epoch seconds) << FLAG_BITS
    #: | LIVE | ONLINE, where window is the anti-replay window, highest seq << SEQ_WINDOW |
    #: bitmap of the seqs below it (0: no seq yet). One integer per device instead of a float
    #: and two sets (a set of five costs 728 bytes), packed 22 bytes a device instead of a
    #: dict of ints (``DeviceWords``).
    devices: DeviceWords = field(default_factory=lambda: DeviceWords())
    pending: Pending = field(default_factory=Pending)
    #: What most homes never set (``Seldom``); None until something is.
    seldom: Seldom | None = None
    last_point: datetime | None = None
    next_check: datetime | None = None  # not checkpointed: a restart checks at once

    tentative = _Seldom()  # a first sign of life while out, not yet confirmed
    visitor_until = _Seldom()
    away_until = _Seldom()
    away_reason = _Seldom()
    away_marker = _Seldom()  # last sign of life when holiday mode was set
    #: Last status said offline: reason; None while none is (an empty dict costs 64 bytes).
    offline = _Seldom()
    late_dropped = _Seldom()
    #: The hour of the day of the last sign of life, local (what the quiet is judged by).
    context_hour = _InTimes(PLACE_COUNT + RECENT)
    #: The limit for the quiet going on now (``limit_h``).
    threshold_h = _InTimes(PLACE_COUNT + RECENT + 1)
    #: Epoch seconds of the last sign of sleep: the bedroom or bed reporting in the deep
    #: night, or a bed mat occupied through it (``_note_sleep``); 0 never.
    slept_at = _InTimes(PLACE_COUNT + RECENT + 2)

    @property
    def last_at(self) -> np.ndarray:
        """Epoch seconds of the last sign of life per place (0: never)."""
        return np.frombuffer(self.times, dtype=np.float64, count=PLACE_COUNT)

    @property
    def recent(self) -> np.ndarray:
        """The last ``RECENT`` motion signs, whole epoch seconds * 8 + place (0: none)."""
        return np.frombuffer(self.times, dtype=np.float64, count=RECENT, offset=8 * PLACE_COUNT)

    # -- message bookkeeping --------------------------------------------------------------

    def duplicate(self, device: str, seq: int) -> bool:
        """True if (device, seq) was seen recently; remembers it otherwise.

        One integer per device, the highest seq shifted above a bitmap of the window below
        it, instead of a set (or a tuple of two): the state of 100 k homes has to fit in
        memory.
        """
        packed = self.window(device)
        highest, seen = (-1, 0) if packed is None else (packed >> SEQ_WINDOW, packed & WINDOW_MASK)
        if seq > highest:
            # A jump past the window forgets the window instead of shifting into it: zigbee2mqtt
            # numbers by the microsecond, and a shift by hours of microseconds took gigabytes.
            shift = seq - highest
            if highest < 0 or shift > SEQ_WINDOW:
                seen = 0
            else:
                seen = ((seen << shift) | (1 << (shift - 1))) & WINDOW_MASK
            self._set_window(device, _pack(seq, seen))
            return False
        if seq == highest:
            return True
        if highest - seq > SEQ_WINDOW:
            # Far below the window: the device restarted and counts from 1 again (the
            # gateway already drops broker redeliveries). Treating it as a redelivery would
            # ignore the sensor until it reached its old count, and the home would look still.
            self._set_window(device, _pack(seq, 0))
            return False
        bit = 1 << (highest - seq - 1)
        if seen & bit:
            return True
        self._set_window(device, _pack(highest, seen | bit))
        return False

    def window(self, device: str) -> int | None:
        """The device's anti-replay window (``_pack``), None before its first seq."""
        window = self.devices.get(device, 0) >> HEARD_BITS
        return window - 1 if window else None

    def _set_window(self, device: str, window: int) -> None:
        self.devices[device] = (window + 1) << HEARD_BITS | self.devices.get(device, 0) & HEARD_MASK

    def _set_heard(self, device: str, now: datetime, flags: int) -> None:
        window = self.devices.get(device, 0) >> HEARD_BITS << HEARD_BITS
        self.devices[device] = window | int(now.timestamp()) << FLAG_BITS | flags

    def heard(self, device: str, now: datetime, *, liveness: bool = False) -> None:
        flags = self.devices.get(device, 0) & (LIVE | ONLINE) | (LIVE if liveness else 0)
        self._set_heard(device, now, flags)

    def status(self, device: str, now: datetime, *, online: bool, reason: str = "") -> None:
        """The gateway's liveness verdict; it outranks our own last-seen bookkeeping."""
        flags = self.devices.get(device, 0) & LIVE | (ONLINE if online else 0)
        self._set_heard(device, now, flags)
        if online:
            if self.offline is not None:
                self.offline.pop(device, None)
                self.offline = self.offline or None
        else:
            self.offline = {**(self.offline or {}), device: reason or "offline"}

    def local(self, ts: datetime) -> datetime:
        return ts.astimezone(self.tz)

    def hour(self, ts: datetime) -> float:
        local = self.local(ts)
        return local.hour + local.minute / 60 + local.second / 3600

    # -- activity -------------------------------------------------------------------------

    def away(self, now: datetime) -> bool:
        return self.away_until is not None and now < self.away_until

    def visitor(self, now: datetime) -> bool:
        return self.visitor_until is not None and now < self.visitor_until

    def activity(
        self,
        ts: datetime,
        place: Place,
        *,
        device: str,
        seq: int,
        label: str,
        front_door: bool,
        settings: ModelSettings,
        presence: bool = True,
    ) -> None:
        """A sign of life at event time ``ts``; learns the quiet that just ended.

        ``presence``: the sensor sees someone *there* (motion, a pressure mat), not an instant
        (a flush, a tap, a cabinet): only presence starts a stay in the bathroom."""
        local = self.local(ts)
        self.model.new_day(local.toordinal(), settings)
        if self.last_ts is not None and ts < self.last_ts:
            if ts < self.last_ts - LATENESS:
                self.late_dropped += 1
                return
            # Late but within bounds: it happened, yet it does not move the context.
            self.last_at[place] = max(self.last_at[place], ts.timestamp())
            return
        if self.alarm_standing and self._confirms(ts, device, settings):
            self.alarm_standing = False
        hour = self.hour(ts)
        place = self._place_after(ts, place, front_door, hour, settings)
        self._note_visitor(ts, place)
        self._note_sleep(ts, place, hour)
        if self.last_ts is not None and not self.away(ts):
            quiet_h = _hours(ts - self.last_ts)
            ended = self.bath_since is not None and place is not Place.BATHROOM
            self.model.learn_quiet(
                self.context_hour, self.context_place, quiet_h, visit_ended=ended
            )
            if self.last_place is not Place.OUT:
                self.model.learn_bedtime(self.context_hour, quiet_h, settings)
        self._bathroom(ts, place, presence, settings)
        if place in DAY_PLACES and 4 <= hour < 14 and not self.up_since_night(ts):
            self.model.learn_wake(local.weekday() >= 5, hour)
        self.times[place] = ts.timestamp()  # ``last_at[place]``, without making the view
        self.last_ts, self.last_place, self.context_hour = ts, place, hour
        self.context_place = self.context_of(ts, hour, place, settings)
        self.last_device, self.last_seq, self.last_label = device, seq, label
        self.after_instant = not presence and place is not Place.OUT
        self.threshold_h = self.limit_h(settings)
        self.pending.inactivity = ""

    def _confirms(self, ts: datetime, device: str, settings: ModelSettings) -> bool:
        """This sign and the one before it are someone about, not a sensor's lone blip: two
        signs closer than any limit can be (``floor_h``), so no silence lay between them,
        from two devices or from one that fired again. A motion sensor's ON and OFF a second
        apart (a recording's two edges) are one blip, such as a PIR gives now and then in an
        empty flat (tm000's two-day absence: a trigger every 2 to 16 hours)."""
        if self.last_ts is None:
            return True
        gap = ts - self.last_ts
        again = device != self.last_device or gap >= REFIRE
        return again and gap.total_seconds() <= settings.floor_h * 3600

    def limit_h(self, settings: ModelSettings) -> float:
        """The limit for the quiet going on now: in the bathroom without a stay (switches
        only), the population's limit is that of bathrooms known by instants; after an
        instant, that of a spell (``ActivityModel.quiet_threshold_h``)."""
        return self.model.quiet_threshold_h(
            self.context_hour,
            self.context_place,
            settings,
            instant=self.bath_since is None,
            spell=self.after_instant,
        )

    def context_of(self, ts: datetime, hour: float, place: Place, settings: ModelSettings) -> Place:
        """Sleep without a bed sensor: in a home that does not see sleep (``sees_sleep``), a
        sign of life at home after its usual bedtime is taken as going to bed, and the quiet
        after it is judged as a night (the bedroom's context, with its own learned spells).
        Homes that see sleep keep the place they saw."""
        if place in (Place.OUT, Place.BEDROOM, Place.BED) or self.sees_sleep(ts):
            return place
        return Place.BEDROOM if self.model.settling(hour, settings) else place

    def sees_sleep(self, now: datetime) -> bool:
        """The bedroom or bed reported *in the night* this last week, not merely ever: the
        MIT flats' bedroom light and drawers are used in the evening and the morning, and
        quiet after the kitchen at 22:00 there was judged as the day's until they were
        taken for homes that see their resident asleep."""
        return bool(self.slept_at) and now.timestamp() - self.slept_at <= (
            SLEEP_SEEN_FOR.total_seconds()
        )

    def _note_sleep(self, ts: datetime, place: Place, hour: float) -> None:
        """A sign from the bedroom or bed between midnight and ``DEEP_NIGHT_END_H``, or a
        bed mat that was occupied through that time (no sign while asleep, but the mat
        said where the resident was)."""
        night = place in (Place.BEDROOM, Place.BED) and hour < DEEP_NIGHT_END_H
        if not night and self.last_place is Place.BED and self.last_ts is not None:
            midnight = self.local(ts).replace(hour=0, minute=0, second=0, microsecond=0)
            night = self.last_ts < midnight + timedelta(hours=DEEP_NIGHT_END_H) < ts
        if night:
            self.slept_at = ts.timestamp()

    def _place_after(
        self, ts: datetime, place: Place, front_door: bool, hour: float, settings: ModelSettings
    ) -> Place:
        """The context place, correcting for the front door: leaving vs. arriving vs. visitor.

        While out, the front door or two signs of life within ``RETURN_CONFIRM`` mean back
        home; a single blip (a porch sensor, a pet) does not end the outing.
        """
        if self.last_place is Place.OUT and self.last_ts is not None:
            # A door event long after the last sign of life is coming home; motion counts
            # once the door has been still for a while (not since the last motion: someone
            # who came in through a door taken for leaving keeps moving, and must not stay
            # "out" until they sit still for a minute and a half).
            door_at = max((t for t in (self.left_at, self.door_closed_at) if t), default=None)
            reference = self.last_ts if front_door or door_at is None else door_at
            settled = ts - reference > DOOR_SETTLE
            confirmed = self.tentative is not None and ts - self.tentative <= RETURN_CONFIRM
            if (front_door and settled) or (not front_door and confirmed):
                self.arrived_at, self.left_at, self.tentative = ts, None, None
                return Place.OTHER if front_door else place
            if not front_door:
                if settled or self.tentative is not None:
                    self.tentative = ts
                return Place.OUT
        self.tentative = None
        if front_door:
            # The door closing behind someone who just came in is part of the arrival; the
            # door opening again once it was shut is leaving (popping back in for the keys).
            just_arrived = (
                self.arrived_at is not None
                and ts - self.arrived_at < ARRIVAL_GRACE
                and self.last_place is not Place.OUT  # left again: this closes behind them
                and not self._reopened(ts)
            )
            if just_arrived or self.visitor(ts):
                return Place.OTHER
            if self.left_at is None or self.last_place is not Place.OUT:
                self.left_at = ts
                self.left_at_night = is_night(hour, settings)
            return Place.OUT
        self.left_at = None
        return place

    def _reopened(self, ts: datetime) -> bool:
        """This door event opens a door that was shut since the arrival."""
        return (
            self.door_open_since == ts
            and self.arrived_at is not None
            and self.door_closed_at is not None
            and self.door_closed_at > self.arrived_at
        )

    def _note_visitor(self, ts: datetime, place: Place) -> None:
        """Several rooms busy within a minute is more than one person walking."""
        if place is Place.OUT:
            return
        at = int(ts.timestamp())
        signs = self.recent
        signs[:-1] = signs[1:]
        signs[-1] = at * 8 + int(place)
        since = signs // 8
        recent = signs[(since > 0) & (at - since <= VISITOR_WINDOW.total_seconds())]
        window = [int(code % 8) for code in recent]
        switches = sum(1 for a, b in itertools.pairwise(window) if a != b)
        if len(set(window)) >= 4 and switches >= 7:
            self.visitor_until = ts + VISITOR_HOLD

    def _bathroom(
        self, ts: datetime, place: Place, presence: bool, settings: ModelSettings
    ) -> None:
        """A stay in the bathroom is measured from presence (motion) only. Switches say that
        something happened there at an instant: a bathroom switch firing now and then while
        the resident goes to and fro unseen made hour-long "stays" (MIT flats, the morning
        flush in contacts-only homes) and false ``bathroom_too_long``; silence after them is
        the inactivity check's business, with its own learned limit."""
        if place is Place.BATHROOM:
            if self.bath_since is None and presence:
                self.bath_since = ts
            return
        if self.bath_since is not None:
            # Long "stays" are learned too: a bathroom sensor that sees the bed keeps firing
            # all night, and that is this home's normal.
            night = is_night(self.hour(self.bath_since), settings)
            self.model.learn_bath(night, (ts - self.bath_since).total_seconds() / 60)
            self.bath_since = None

    def _night_end(self, now: datetime) -> float:
        """03:00 local today (yesterday's before 03:00): where "since the night" begins."""
        local = self.local(now)
        start = local.replace(hour=3, minute=0, second=0, microsecond=0)
        if local < start:
            start -= timedelta(days=1)
        return start.timestamp()

    def up_since_night(self, now: datetime) -> bool:
        """Active in a day room since 03:00 local today (the day has begun)."""
        latest = max(self.times[p] for p in DAY_PLACES)  # ``last_at``, read in place
        return bool(latest >= self._night_end(now))

    def watched_the_night(self, now: datetime) -> bool:
        """Some place's last sign of life is from before 03:00 today: the detector (or the
        checkpoint it restored) has watched this home through the night, so "nothing in a
        day room since" means something. A home first heard of this morning — a detector
        started without its state — has no night to judge: every one of them used to get a
        ``no_wake_up`` at the first tick (hundreds at once, issue 18's bench). A bed mat that
        says "in bed" now is judged all the same (``findings.no_wake_up``): that is seen."""
        last_at = self.last_at
        known = last_at[last_at > 0]
        return bool((known < self._night_end(now)).any())

    # -- liveness -------------------------------------------------------------------------

    def _alive(self, device: str, now: datetime, liveness: timedelta) -> bool:
        if device in (self.offline or ()):
            return False
        packed = self.devices.get(device)
        if packed is None or packed & ONLINE:
            return True
        return now.timestamp() - ((packed & HEARD_MASK) >> FLAG_BITS) <= liveness.total_seconds()

    def _reporters(self) -> set[str]:
        """Devices that can tell us they are alive: heartbeats or the gateway's statuses."""
        return {d for d, packed in self.devices.items() if packed & (LIVE | ONLINE)} | set(
            self.offline or ()
        )

    def silent_devices(self, now: datetime, liveness: timedelta) -> list[str]:
        return sorted(d for d in self._reporters() if not self._alive(d, now, liveness))

    def offline_home(self, now: datetime, liveness: timedelta) -> bool:
        """Every device that can tell us it is alive has gone quiet: the home, not the person.

        A home whose devices never report liveness cannot be told apart, so it is never
        called offline here: a possibly false "inactive" beats a lost alert.
        """
        if HOME_GATEWAY_DEVICE in (self.offline or ()):
            return True  # the gateway says the whole home is unreachable (hub down, power cut)
        reporters = self._reporters()
        return bool(reporters) and not any(self._alive(d, now, liveness) for d in reporters)

    # -- checkpoint -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "tz": self.tz.key,
            "model": self.model.to_dict(),
            "last_ts": _iso(self.last_ts),
            "last_place": int(self.last_place),
            "last_label": self.last_label,
            "last_device": self.last_device,
            "last_seq": self.last_seq,
            "context_hour": self.context_hour,
            "context_place": int(self.context_place),
            "threshold_h": self.threshold_h,
            "last_at": self.last_at.tolist(),
            "bed": self.bed,
            "chair": self.chair,
            "slept_at": self.slept_at,
            "bath_since": _iso(self.bath_since),
            "door_open_since": _iso(self.door_open_since),
            "door_closed_at": _iso(self.door_closed_at),
            "door_device": self.door_device,
            "left_at": _iso(self.left_at),
            "left_at_night": self.left_at_night,
            "arrived_at": _iso(self.arrived_at),
            "tentative": _iso(self.tentative),
            "visitor_until": _iso(self.visitor_until),
            "away_until": _iso(self.away_until),
            "away_reason": self.away_reason,
            "away_marker": _iso(self.away_marker),
            "devices": {d: packed & HEARD_MASK for d, packed in self.devices.items()},
            "offline": self.offline or {},
            "seqs": {
                d: [p >> SEQ_WINDOW, p & WINDOW_MASK]
                for d in self.devices
                if (p := self.window(d)) is not None
            },
            "pending": {
                "inactivity": self.pending.inactivity,
                "wake_day": self.pending.wake_day,
                "bath": self.pending.bath,
                "door": self.pending.door,
                "wander": self.pending.wander,
                "expectations": self.pending.expectations or {},
            },
            # only when set: most quiets follow someone seen, and older checkpoints lack it
            **({"after_instant": True} if self.after_instant else {}),
            **({"alarm_standing": True} if self.alarm_standing else {}),
        }

    @classmethod
    def from_dict(cls, home: str, data: dict[str, Any]) -> HomeState:
        state = cls(
            home=home, tz=ZoneInfo(data["tz"]), model=ActivityModel.from_dict(data["model"])
        )
        state.last_ts = _time(data["last_ts"])
        state.last_place = Place(data["last_place"])
        state.last_label = data["last_label"]
        state.last_device = data["last_device"]
        state.last_seq = data["last_seq"]
        state.context_hour = data["context_hour"]
        state.context_place = Place(data.get("context_place", data["last_place"]))
        state.threshold_h = data["threshold_h"]
        state.after_instant = data.get("after_instant", False)
        state.alarm_standing = data.get("alarm_standing", False)
        state.last_at[:] = data["last_at"]
        state.bed, state.chair = data["bed"], data["chair"]
        state.slept_at = float(data.get("slept_at", 0.0))
        state.bath_since = _time(data["bath_since"])
        state.door_open_since = _time(data["door_open_since"])
        state.door_closed_at = _time(data.get("door_closed_at"))
        state.door_device = data["door_device"]
        state.left_at = _time(data["left_at"])
        state.left_at_night = data["left_at_night"]
        state.arrived_at = _time(data["arrived_at"])
        state.tentative = _time(data["tentative"])
        state.visitor_until = _time(data["visitor_until"])
        state.away_until = _time(data["away_until"])
        state.away_reason = data["away_reason"]
        state.away_marker = _time(data["away_marker"])
        state.devices = DeviceWords(
            (d, int(packed)) for d, packed in data.get("devices", {}).items()
        )
        for device, at in data.get("seen", {}).items():  # a checkpoint from before packing
            live = LIVE if device in data.get("live", ()) else 0
            online = ONLINE if device in data.get("online", ()) else 0
            state.devices[device] = int(at) << FLAG_BITS | live | online
        state.offline = dict(data["offline"]) or None
        for device, (highest, seen) in data["seqs"].items():
            state._set_window(device, _pack(int(highest), int(seen)))
        pending = data["pending"]
        state.pending = Pending(**{**pending, "expectations": pending["expectations"] or None})
        return state


def _pack(highest: int, seen: int) -> int:
    return highest << SEQ_WINDOW | seen


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

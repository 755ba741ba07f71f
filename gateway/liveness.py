"""Is each device still there, and is its battery still trustworthy?

zigbee2mqtt marks a battery device offline only after 25 h of silence: far too late when
the device is the only thing between a fall and a call. Here every device has its own
deadline derived from its expected heartbeat (registry, else its model's profile), and is
declared offline the moment it passes it, or when its availability/last will says so. When
every device of a home is offline, or its hub (registry kind ``hub``: the home terminal whose
MQTT last will we get) is, the home itself is ("gateway offline": the terminal, its power or
its network is gone, not the resident).

Batteries: percentages of coin cells are unreliable (flat for a year, then a cliff), so a
battery is also due for replacement by age since it was changed.

Pure and clock-free: callers pass ``now``; the service calls ``check`` on its clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from eldercare.models import HOME_GATEWAY_DEVICE, BatteryHealth, DeviceState, DeviceStatus
from gateway.profiles import profile_for
from gateway.registry import DeviceInfo, RegistrySnapshot

#: Missed heartbeats before a device counts as gone, plus slack for a slow network.
MISSED_HEARTBEATS = 2
GRACE_S = 60.0
#: Battery percentage thresholds, with hysteresis so a reading wobbling around the threshold
#: does not flap the status.
BATTERY_LOW_PCT = 15.0
BATTERY_OK_PCT = 25.0
#: A device of this registry kind is the home's terminal (its MQTT connection, zigbee
#: coordinator): its last will means every device behind it is cut off, now, not in hours.
HUB_KIND = "hub"
#: Devices checked (or compared, ``gateway.service``) between two chances for the event
#: loop to run other work.
CHECK_PART = 5_000


def deadline_for(device: DeviceInfo) -> timedelta:
    heartbeat = device.heartbeat_s or profile_for(device.model).heartbeat_s
    return timedelta(seconds=heartbeat * MISSED_HEARTBEATS + GRACE_S)


@dataclass(slots=True)
class _Device:
    info: DeviceInfo
    deadline: timedelta
    last_seen: datetime
    #: What the device's retained status says. None until first heard from (or its
    #: deadline passes) unless restored from the broker at start (``restore``): the first
    #: observation that differs from it is published, so no stale retained status outlives
    #: a restart, and one that matches it is not published again.
    state: DeviceState | None = None
    battery_pct: float | None = None
    battery: BatteryHealth = BatteryHealth.OK


class LivenessTracker:
    """Per-device last-seen deadlines, availability and battery health; home quietness."""

    def __init__(self, start: datetime) -> None:
        self._devices: dict[tuple[str, str], _Device] = {}
        self._homes: dict[str, set[str]] = defaultdict(set)
        self._home_state: dict[str, DeviceState] = {}
        self._start = start

    # Registry ------------------------------------------------------------------------------
    def sync(self, snapshot: RegistrySnapshot, now: datetime) -> None:
        """Follow the registry: new devices get a full deadline from now, removed ones go."""
        self.forget([self._devices[key].info for key in set(self._devices) - set(snapshot.devices)])
        self.follow(snapshot.devices.values(), now)

    def follow(self, infos: Iterable[DeviceInfo], now: datetime) -> None:
        """Registered devices: a new one gets a full deadline from now, a changed one keeps
        what was observed of it (a fresh battery must not reset its presence)."""
        for info in infos:
            tracked = self._devices.get((info.home, info.id))
            if tracked is None:
                self._devices[(info.home, info.id)] = _Device(
                    info, deadline_for(info), max(now, self._start)
                )
                self._homes[info.home].add(info.id)
            else:
                tracked.info, tracked.deadline = info, deadline_for(info)

    def forget(self, infos: Iterable[DeviceInfo]) -> None:
        """Devices no longer registered; a home without devices is forgotten too."""
        for info in infos:
            if self._devices.pop((info.home, info.id), None) is None:
                continue
            self._homes[info.home].discard(info.id)
            if not self._homes[info.home]:
                del self._homes[info.home]
                self._home_state.pop(info.home, None)

    # Restart ---------------------------------------------------------------------------
    def restore(self, status: DeviceStatus) -> bool:
        """Take a status this tracker published before a restart, as the broker retains it,
        so that an observation agreeing with it publishes nothing. False, and nothing
        restored, for a device or home not registered, a device status that presence did
        not make (no ``battery``: the rate limiter's flag, a status passed through without
        a registry), which the first observation replaces as before, or a device or home
        whose state was decided since the start (a press in the lane during the read):
        what was observed since wins over what was retained before.

        Deadlines are not restored: each device keeps its full one from the start, so a
        device restored ``online`` that stays silent still goes ``offline`` on time."""
        if status.device == HOME_GATEWAY_DEVICE:
            if status.home not in self._homes or status.home in self._home_state:
                return False
            self._home_state[status.home] = status.state
            return True
        tracked = self._devices.get((status.home, status.device))
        if tracked is None or tracked.state is not None or status.battery is None:
            return False
        tracked.state, tracked.battery = status.state, status.battery
        return True

    def restored_homes(self, now: datetime) -> list[DeviceStatus]:
        """Each home's status as its restored devices make it, where the broker's differs
        or is missing (after ``restore``): a home whose devices all stay as they were must
        still get the status its first device's message gave it before."""
        return [status for home in list(self._homes) for status in self._home_change(home, now)]

    # Observations -----------------------------------------------------------------------
    def seen(self, home: str, device: str, now: datetime) -> list[DeviceStatus]:
        """Any accepted message proves the device is alive."""
        tracked = self._devices.get((home, device))
        if tracked is None:
            return []
        tracked.last_seen = max(tracked.last_seen, now)
        if tracked.state is DeviceState.ONLINE:
            return []
        return self._set_state(tracked, DeviceState.ONLINE, now, "seen: message received")

    def reported(self, status: DeviceStatus, now: datetime) -> list[DeviceStatus]:
        """The device's own word: its availability topic or its MQTT last will."""
        tracked = self._devices.get((status.home, status.device))
        if tracked is None:
            return []
        if status.state is DeviceState.ONLINE:
            tracked.last_seen = max(tracked.last_seen, now)
        if status.state is tracked.state:
            return []
        reason = status.reason or f"reported: device says {status.state}"
        return self._set_state(tracked, status.state, now, reason)

    def battery(self, home: str, device: str, percent: float, now: datetime) -> list[DeviceStatus]:
        tracked = self._devices.get((home, device))
        if tracked is None:
            return []
        tracked.battery_pct = percent
        return self._battery_check(tracked, now)

    # Clock -----------------------------------------------------------------------------
    def check(self, now: datetime) -> list[DeviceStatus]:
        """Everything whose deadline passed or whose battery aged out since the last check."""
        return [status for part in self.check_in_parts(now) for status in part]

    def check_in_parts(self, now: datetime, size: int = CHECK_PART) -> Iterator[list[DeviceStatus]]:
        """``check``, ``size`` devices at a time, so that the caller can let other work run
        in between: 160 000 devices in one go held the gateway's event loop for about
        0.2 s every tick at 10 000 homes, and a call press waited behind it (issue 18)."""
        devices = list(self._devices.values())
        for start in range(0, len(devices), size):
            changes: list[DeviceStatus] = []
            for tracked in devices[start : start + size]:
                silent = now - tracked.last_seen
                if tracked.state is not DeviceState.OFFLINE and silent > tracked.deadline:
                    reason = (
                        f"heartbeat: silent for {silent.total_seconds():.0f} s, "
                        f"deadline {tracked.deadline.total_seconds():.0f} s"
                    )
                    changes += self._set_state(tracked, DeviceState.OFFLINE, now, reason)
                changes += self._battery_check(tracked, now)
            yield changes

    # Decisions ---------------------------------------------------------------------------
    def _battery_check(self, tracked: _Device, now: datetime) -> list[DeviceStatus]:
        health, reason = _battery_health(tracked, now)
        if health is tracked.battery or tracked.state is None:
            return []  # unchanged, or wait until presence is known to report it
        tracked.battery = health
        return [self._status(tracked, now, reason)]

    def _set_state(
        self, tracked: _Device, state: DeviceState, now: datetime, reason: str
    ) -> list[DeviceStatus]:
        tracked.state = state
        return [self._status(tracked, now, reason), *self._home_change(tracked.info.home, now)]

    def _status(self, tracked: _Device, now: datetime, reason: str) -> DeviceStatus:
        assert tracked.state is not None, "statuses are only made once presence is known"
        return DeviceStatus(
            home=tracked.info.home,
            device=tracked.info.id,
            state=tracked.state,
            ts=now,
            reason=reason[:200],
            battery=tracked.battery,
        )

    def _home_change(self, home: str, now: datetime) -> list[DeviceStatus]:
        devices = [self._devices[(home, device)] for device in self._homes.get(home, ())]
        hubs_down = [
            d.info.id for d in devices if d.info.kind == HUB_KIND and d.state is DeviceState.OFFLINE
        ]
        all_down = bool(devices) and all(d.state is DeviceState.OFFLINE for d in devices)
        if all_down or hubs_down:
            state = DeviceState.OFFLINE
            reason = (
                f"quiet: all {len(devices)} devices offline"
                if all_down
                else f"hub: {', '.join(hubs_down)} offline"
            )
        elif any(d.state is DeviceState.ONLINE for d in devices):
            state, reason = DeviceState.ONLINE, "seen: a device of the home is online"
        else:
            return []  # nothing heard yet since the start
        if self._home_state.get(home) is state:
            return []
        self._home_state[home] = state
        return [
            DeviceStatus(home=home, device=HOME_GATEWAY_DEVICE, state=state, ts=now, reason=reason)
        ]


def _battery_health(tracked: _Device, now: datetime) -> tuple[BatteryHealth, str]:
    percent = tracked.battery_pct
    if percent is not None and (
        percent < BATTERY_LOW_PCT
        or (tracked.battery is BatteryHealth.LOW and percent < BATTERY_OK_PCT)
    ):
        return BatteryHealth.LOW, f"battery: {percent:g}% (low below {BATTERY_LOW_PCT:g}%)"
    if percent is None and tracked.battery is BatteryHealth.LOW:
        # Restored low from before a restart: low until a reading says otherwise.
        return BatteryHealth.LOW, "battery: low before the restart, no reading since"
    life = profile_for(tracked.info.model).battery_life
    changed = tracked.info.battery_changed_at
    if life is not None and changed is not None and now - changed > life:
        return (
            BatteryHealth.DUE_FOR_REPLACEMENT,
            f"battery: changed {changed.date().isoformat()}, older than {life.days} days",
        )
    return BatteryHealth.OK, "battery: ok"

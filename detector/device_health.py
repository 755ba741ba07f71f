"""Silent devices and empty batteries: a technician's job, never a resident's alarm.

Consumes the gateway's ``DeviceStatus`` (online/offline with a reason) and, for devices that
heartbeat without any status, its own last-seen: silent longer than ``silence`` is offline.
Once the gateway has reported a device's status, the gateway's per-device deadline (from
the device's registered heartbeat) is the authority: a fixed ``silence`` shorter than a
device's heartbeat interval would flood the technician with false "offline" alerts.
When every device of a home is down, one ``home_offline`` alert replaces the per-device ones.

A condition that ends by itself ends its alert: when the home is heard from again, when the
last of its devices named in ``device_offline`` alerts is back, when the last low battery is
back above the OK level, a ``ConditionCleared`` says so, and alerting resolves the alert as
recovered (one alerting alert per home and kind stays open, triggers attached, so the
condition ends for the home, not per device).

The checkpoint keeps only the homes with a condition open (a device down or alerted, a low
battery alerted, the home offline), with all their devices: without it a device that came
back after a restart never cleared its alert, and a retained "offline" status raised the
same condition again. Healthy homes are not kept (they are most of the state, and the next
message or the gateway's retained status gives them back).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from detector.alerts import make_alert
from detector.packed import PackedInts
from detector.rules import BaseRule, RuleOutput, whole_tick
from eldercare.models import (
    HOME_GATEWAY_DEVICE,
    Alert,
    AlertKind,
    ConditionCleared,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Evidence,
    Metric,
    Severity,
    Telemetry,
)

BATTERY_LOW_PCT = 15.0
BATTERY_OK_PCT = 30.0


#: Flags below the last-heard time in ``DeviceHealthRule._homes`` (one integer per device:
#: a dataclass and a datetime per device cost ~1.4 KB a home, and 100 k homes stay in memory).
HEARTBEATS = 1  # the device heartbeats (its silence means something)
WATCHED = 2  # the gateway reports this device's liveness
ALERTED = 4  # its offline condition has been alerted
BATTERY = 8  # its low battery has been alerted
FLAG_BITS = 4
#: Homes walked per part of a tick: a few µs each, so a few ms a part.
TICK_PART_HOMES = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _pack(heard: datetime, flags: int) -> int:
    """Last heard as whole microseconds since the epoch (exact: ``_heard`` gives it back)."""
    return (heard - _EPOCH) // _MICROSECOND << FLAG_BITS | flags


def _heard(packed: int) -> datetime:
    return _EPOCH + timedelta(microseconds=packed >> FLAG_BITS)


@dataclass
class DeviceHealthRule(BaseRule):
    silence: timedelta = timedelta(minutes=30)
    name: str = "device_health"
    kinds: ClassVar[frozenset[AlertKind]] = frozenset(
        {AlertKind.DEVICE_OFFLINE, AlertKind.HOME_OFFLINE, AlertKind.BATTERY_LOW}
    )
    #: home -> device -> last heard << FLAG_BITS | flags (``_pack``), packed (``PackedInts``:
    #: half the bytes of a dict of ints).
    _homes: dict[str, PackedInts] = field(default_factory=dict)
    #: home -> device -> why it is down; only while some device of the home is down.
    _down: dict[str, dict[str, str]] = field(default_factory=dict)
    _home_alerted: set[str] = field(default_factory=set)
    #: Per home, the devices named in its raised ``device_offline`` alerts and still down.
    _offline_alerted: dict[str, set[str]] = field(default_factory=dict)
    #: When this process first heard anything, and the homes where, in the ``silence`` after
    #: it, a device was first heard of as already offline (see ``_whole_home_down``).
    _started: datetime | None = None
    _met_down: set[str] = field(default_factory=set)
    #: Homes where a device may carry ``ALERTED`` or ``BATTERY`` (a superset: pruned by
    #: ``snapshot``), so the checkpoint finds them without walking every device: at 10 000
    #: homes (160 000 devices) that walk held the detector's loop ~0.1 s a checkpoint.
    _flagged: set[str] = field(default_factory=set)

    def _begin(self, now: datetime) -> None:
        if self._started is None:
            self._started = now

    def _device(self, home: str, device: str, now: datetime) -> int:
        """The device's packed state, first heard ``now`` if it is new."""
        self._begin(now)
        devices = self._homes.get(home)
        if devices is None:
            devices = self._homes[home] = PackedInts()
        packed = devices.get(device)
        if packed is None:
            packed = devices[device] = _pack(now, 0)
        return packed

    def _set_down(self, home: str, device: str, reason: str) -> None:
        self._down.setdefault(home, {})[device] = reason

    def _set_up(self, home: str, device: str) -> None:
        down = self._down.get(home)
        if down is not None and down.pop(device, None) is not None and not down:
            del self._down[home]

    def _alive(self, home: str, device: str, now: datetime, *, heartbeat: bool) -> RuleOutput:
        flags = self._device(home, device, now) & (HEARTBEATS | WATCHED | BATTERY)
        self._homes[home][device] = _pack(now, flags | (HEARTBEATS if heartbeat else 0))
        self._set_up(home, device)
        output = RuleOutput()
        if home in self._home_alerted:
            self._home_alerted.discard(home)
            output.cleared.append(_cleared(AlertKind.HOME_OFFLINE, home, device, now))
        alerted = self._offline_alerted.get(home)
        if alerted and device in alerted:
            alerted.discard(device)
            if not alerted:
                output.cleared.append(_cleared(AlertKind.DEVICE_OFFLINE, home, device, now))
        return output

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        heartbeat = event.type is EventType.HEARTBEAT
        return self._alive(event.home, event.device, now, heartbeat=heartbeat)

    def on_telemetry(self, telemetry: Telemetry, now: datetime) -> RuleOutput:
        output = self._alive(telemetry.home, telemetry.device, now, heartbeat=True)
        if telemetry.metric is not Metric.BATTERY or telemetry.value is None:
            return output
        devices = self._homes[telemetry.home]
        packed = devices[telemetry.device]
        if telemetry.value >= BATTERY_OK_PCT and packed & BATTERY:
            devices[telemetry.device] = packed & ~BATTERY
            if not any(other & BATTERY for other in devices.values()):
                reason = f"battery: {telemetry.value:.0f}% on {telemetry.device}"
                output.cleared.append(
                    _cleared(AlertKind.BATTERY_LOW, telemetry.home, telemetry.device, now, reason)
                )
        if telemetry.value > BATTERY_LOW_PCT or packed & BATTERY:
            return output
        devices[telemetry.device] = packed | BATTERY
        self._flagged.add(telemetry.home)
        alert = make_alert(
            home=telemetry.home,
            kind=AlertKind.BATTERY_LOW,
            severity=Severity.LOW,
            at=now,
            key=f"{telemetry.device}|{telemetry.seq}",
            zh=f"设备 {telemetry.device} 电量低（{telemetry.value:.0f}%），请安排更换电池。",
            en=f"Device {telemetry.device} battery low ({telemetry.value:.0f} %); replace it.",
            evidence=[Evidence(device=telemetry.device, seq=telemetry.seq, type="battery")],
        )
        output.alerts.append(alert)
        return output

    def on_status(self, status: DeviceStatus, now: datetime) -> RuleOutput:
        if (
            status.state is not DeviceState.ONLINE
            and not self._settled(now)
            and status.device not in self._homes.get(status.home, ())
        ):
            self._met_down.add(status.home)
        packed = self._device(status.home, status.device, now)
        self._homes[status.home][status.device] = packed | WATCHED
        if status.state is DeviceState.ONLINE:
            return self._alive(status.home, status.device, now, heartbeat=True)
        self._homes[status.home][status.device] = packed | WATCHED | HEARTBEATS
        self._set_down(status.home, status.device, status.reason or "offline")
        return self._check_home(status.home, now)

    def on_tick(self, now: datetime) -> RuleOutput:
        return whole_tick(self, now)

    def tick_in_parts(self, now: datetime) -> Iterator[RuleOutput]:
        """The tick, ``TICK_PART_HOMES`` homes a part (``detector.rules.TicksInParts``):
        in one piece it held the detector's loop ~45 ms every 10 s at 10 000 homes."""
        self._begin(now)
        if self._met_down and self._settled(now):
            self._met_down.clear()
        # Silent: last heard before this, compared as the packed integers are (every device
        # of every home each tick; no datetime made per device).
        heard_before = _pack(now - self.silence, 0) >> FLAG_BITS
        homes = list(self._homes)
        for start in range(0, len(homes), TICK_PART_HOMES):
            output = RuleOutput()
            for home in homes[start : start + TICK_PART_HOMES]:
                devices = self._homes.get(home)
                if devices is None:  # forgotten meanwhile
                    continue
                for device, packed in devices.items():
                    if (
                        packed & (HEARTBEATS | WATCHED) == HEARTBEATS
                        and device not in self._down.get(home, ())
                        and packed >> FLAG_BITS < heard_before
                    ):
                        minutes = int(self.silence.total_seconds() // 60)
                        self._set_down(home, device, f"no message for {minutes} min")
                output.extend(self._check_home(home, now))
            yield output

    def _check_home(self, home: str, now: datetime) -> RuleOutput:
        down = self._down.get(home)
        if not down:
            return RuleOutput()
        devices = self._homes[home]
        # The gateway's home-level status (hub's last will, everything quiet) settles it at once.
        if HOME_GATEWAY_DEVICE in down or self._whole_home_down(home, devices, now):
            if home in self._home_alerted:
                return RuleOutput()
            self._home_alerted.add(home)
            self._flagged.add(home)
            for name in down:
                devices[name] |= ALERTED
            return RuleOutput(alerts=[self._home_offline(home, sorted(down), now)])
        alerts: list[Alert] = []
        for name, reason in sorted(down.items()):
            if devices[name] & ALERTED:
                continue
            devices[name] |= ALERTED
            self._flagged.add(home)
            self._offline_alerted.setdefault(home, set()).add(name)
            alerts.append(
                make_alert(
                    home=home,
                    kind=AlertKind.DEVICE_OFFLINE,
                    severity=Severity.LOW,
                    at=now,
                    key=f"{name}|{_heard(devices[name]).isoformat()}",
                    zh=f"设备 {name} 离线（{reason}），其余传感器仍在监测；请技术人员检查。",
                    en=f"Device {name} offline ({reason}); the other sensors "
                    "are still watching. Technician to check.",
                    evidence=[Evidence(device=name, type="status")],
                )
            )
        return RuleOutput(alerts=alerts)

    def _settled(self, now: datetime) -> bool:
        return self._started is not None and now - self._started >= self.silence

    def _whole_home_down(self, home: str, devices: PackedInts, now: datetime) -> bool:
        """Every device we watch is down, and we know them all.

        Just after a (re)start the broker hands over the retained statuses one by one: a
        home's one dead sensor, heard before its live ones, would be the whole home, and
        every restart would page the station with a false ``home_offline`` for each home with
        a device down. So a device first heard of as offline in the ``silence`` after the
        start is only itself until then.
        """
        if home in self._met_down and not self._settled(now):
            return False
        watched = sum(1 for packed in devices.values() if packed & HEARTBEATS)
        return watched > 0 and len(self._down[home]) == watched

    # -- checkpoint -----------------------------------------------------------------------

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget the homes ``keep`` refuses (a single instance's state split by shard)."""
        self._homes = {home: devices for home, devices in self._homes.items() if keep(home)}
        self._down = {home: down for home, down in self._down.items() if keep(home)}
        self._home_alerted = {home for home in self._home_alerted if keep(home)}
        self._offline_alerted = {
            home: names for home, names in self._offline_alerted.items() if keep(home)
        }
        self._flagged = {home for home in self._flagged if keep(home)}

    def snapshot(self) -> bytes:
        """The homes with a condition open, with all their devices. Only the homes that had
        a condition are looked at (``_flagged``), not every device."""
        self._flagged = {
            home
            for home in self._flagged
            if any(packed & (ALERTED | BATTERY) for packed in self._homes.get(home, {}).values())
        }
        open_homes = {*self._down, *self._home_alerted, *self._offline_alerted, *self._flagged}
        saved = {}
        for home in sorted(open_homes):
            saved[home] = {
                # every device of the home: with only the down ones known, the first tick
                # after the restart would take them for the whole home (``home_offline``)
                "devices": dict(self._homes.get(home, {}).items()),
                "down": self._down.get(home, {}),
                "offline": sorted(self._offline_alerted.get(home, ())),
                "home_offline": home in self._home_alerted,
            }
        return json.dumps(saved, separators=(",", ":")).encode()

    def restore(self, data: bytes) -> None:
        loaded = json.loads(data)
        self._homes = {home: PackedInts(item["devices"].items()) for home, item in loaded.items()}
        self._down = {home: dict(item["down"]) for home, item in loaded.items() if item["down"]}
        self._home_alerted = {home for home, item in loaded.items() if item["home_offline"]}
        self._offline_alerted = {
            home: set(item["offline"]) for home, item in loaded.items() if item["offline"]
        }
        self._flagged = set(loaded)

    def _home_offline(self, home: str, devices: list[str], now: datetime) -> Alert:
        names = ", ".join(devices[:8])
        return make_alert(
            home=home,
            kind=AlertKind.HOME_OFFLINE,
            severity=Severity.MEDIUM,
            at=now,
            key=f"{home}|{now.isoformat()}",
            zh=f"全屋设备无信号（{names}）：可能是网关或网络故障，不代表老人无活动；请技术人员检查并电话确认。",
            en=f"All devices of the home are silent ({names}): gateway or network failure, "
            "not resident inactivity. Technician to check; call the resident to confirm.",
            evidence=[Evidence(device=name, type="status") for name in devices[:8]],
        )


def _cleared(
    kind: AlertKind, home: str, device: str, now: datetime, reason: str | None = None
) -> ConditionCleared:
    return ConditionCleared(
        cleared=kind,
        home=home,
        at=now,
        devices=[device],
        reason=reason or f"back online: {device} heard from",
    )

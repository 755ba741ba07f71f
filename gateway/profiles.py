"""What we know about device models: how often they speak, how long their batteries last,
how long their motion sensors stay "occupied".

Declarative, one frozen record per model (Home Assistant's entity-description shape), so
adding a model is one line and every rule that needs a number finds it in one place. A
device's own registry entry (``heartbeat_s``) wins over its model's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from eldercare.models import EventType


@dataclass(frozen=True, slots=True)
class ModelProfile:
    #: Longest normal silence: Zigbee end devices check in about hourly, mains devices more.
    heartbeat_s: int = 3600
    #: Expected life of a fresh battery (None: mains powered or unknown).
    battery_life: timedelta | None = timedelta(days=365)
    #: Seconds a motion sensor stays "occupied" after its last detection.
    motion_hold_s: float = 90.0
    #: The sensor extends "occupied" on new motion without reporting it (only the clear is
    #: reported), so the last motion is inferred from the clear time.
    silent_retrigger: bool = False
    #: Event a button press becomes; ``None`` lets the device's registry kind decide.
    button_event: EventType | None = None


DEFAULT_PROFILE = ModelProfile()

MODELS: dict[str, ModelProfile] = {
    # Aqara motion: blind ~60 s after a detection, zigbee2mqtt clears after 90 s.
    "RTCGQ11LM": ModelProfile(motion_hold_s=90, battery_life=timedelta(days=730)),
    "RTCGQ14LM": ModelProfile(motion_hold_s=60, battery_life=timedelta(days=1095)),
    # IKEA TRÅDFRI motion: "on with timed off", 180 s on-time.
    "E1745": ModelProfile(motion_hold_s=180, battery_life=timedelta(days=365)),
    "E1525": ModelProfile(motion_hold_s=180, battery_life=timedelta(days=365)),
    # Philips Hue motion: the device's own occupancy timeout, extended silently.
    "9290012607": ModelProfile(motion_hold_s=30, silent_retrigger=True),
    "MCCGQ11LM": ModelProfile(battery_life=timedelta(days=730)),  # Aqara door & window
    "WXKG11LM": ModelProfile(battery_life=timedelta(days=730)),  # Aqara wireless mini switch
    "WXKG01LM": ModelProfile(battery_life=timedelta(days=730)),  # Xiaomi round button
    "HS1EB/HS1EB-E": ModelProfile(button_event=EventType.CALL_BUTTON),  # Heiman SOS
    "JTYJ-GD-01LM/BW": ModelProfile(battery_life=timedelta(days=1825)),  # smoke, CR17450
    "HS1SA": ModelProfile(battery_life=timedelta(days=1095)),  # Heiman smoke
    "JTQJ-BF-01LM/BW": ModelProfile(heartbeat_s=1200, battery_life=None),  # mains gas
    "SJCGQ11LM": ModelProfile(battery_life=timedelta(days=730)),  # Aqara water leak
    "WSDCGQ11LM": ModelProfile(heartbeat_s=3600, battery_life=timedelta(days=730)),
}


def profile_for(model: str | None) -> ModelProfile:
    return MODELS.get(model or "", DEFAULT_PROFILE)

"""The flat a simulated resident lives in: rooms, how they connect, and the devices in them.

One layout for every home keeps scenarios comparable: a bathroom fall means the same
sensors saw it in every home. Device ids say their room (``pir-kitchen``) because that is
how installers name them, and the registry gets the room explicitly as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.registry import DeviceSpec


class Room(StrEnum):
    BEDROOM = "bedroom"
    BATHROOM = "bathroom"
    KITCHEN = "kitchen"
    LIVING_ROOM = "living_room"
    HALL = "hall"


#: Rooms a PIR can see into from the doorway, or that need no hall to walk between.
#: The hall connects everything; kitchen and living room are open-plan.
ADJACENT: frozenset[frozenset[Room]] = frozenset(
    {frozenset({Room.HALL, room}) for room in Room if room is not Room.HALL}
    | {frozenset({Room.KITCHEN, Room.LIVING_ROOM})}
)


def adjacent(a: Room, b: Room) -> bool:
    return a is b or frozenset({a, b}) in ADJACENT


class DeviceKind(StrEnum):
    """What a device is, as the registry records it (``Device.kind``)."""

    HUB = "hub"
    MOTION = "motion"
    DOOR = "door"
    BED = "bed_pressure"
    TOILET = "toilet_flush"
    SMOKE = "smoke"
    GAS = "gas"
    WATER_LEAK = "water_leak"
    CLIMATE = "temperature_humidity"
    PENDANT = "pendant"
    CALL_BUTTON = "call_button"


@dataclass(frozen=True, slots=True)
class PirModel:
    """A motion sensor's timing: after a trigger it is blind for ``blind_s`` (Aqara: 60 s),
    then re-triggers on the next movement it sees."""

    blind_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Battery:
    """Percent lost per day; coin cells in PIRs last a year or two, pendants months."""

    drain_per_day: float


#: Battery drain per device kind; mains-powered kinds are absent.
BATTERY_DRAIN: dict[DeviceKind, Battery] = {
    DeviceKind.MOTION: Battery(0.15),
    DeviceKind.DOOR: Battery(0.08),
    DeviceKind.BED: Battery(0.1),
    DeviceKind.TOILET: Battery(0.1),
    DeviceKind.SMOKE: Battery(0.03),
    DeviceKind.WATER_LEAK: Battery(0.05),
    DeviceKind.CLIMATE: Battery(0.1),
    DeviceKind.PENDANT: Battery(0.6),
    DeviceKind.CALL_BUTTON: Battery(0.03),
}

PIR = {room: f"pir-{room.value.replace('_', '-')}" for room in Room}
FRONT_DOOR = "door-front"
BATHROOM_DOOR = "door-bathroom"
BED = "bed-bedroom"
TOILET = "toilet-bathroom"
SMOKE = "smoke-kitchen"
GAS = "gas-kitchen"
WATER_LEAK = "leak-bathroom"
CLIMATE = "climate-living"
PENDANT = "pendant"
WALL_BUTTON = "btn-hall"
HUB = "hub"

STANDARD_DEVICES: tuple[DeviceSpec, ...] = (
    DeviceSpec(HUB, DeviceKind.HUB, Room.HALL),
    *(DeviceSpec(PIR[room], DeviceKind.MOTION, room) for room in Room),
    DeviceSpec(FRONT_DOOR, DeviceKind.DOOR, Room.HALL),
    DeviceSpec(BATHROOM_DOOR, DeviceKind.DOOR, Room.BATHROOM),
    DeviceSpec(BED, DeviceKind.BED, Room.BEDROOM),
    DeviceSpec(TOILET, DeviceKind.TOILET, Room.BATHROOM),
    DeviceSpec(SMOKE, DeviceKind.SMOKE, Room.KITCHEN),
    DeviceSpec(GAS, DeviceKind.GAS, Room.KITCHEN),
    DeviceSpec(WATER_LEAK, DeviceKind.WATER_LEAK, Room.BATHROOM),
    DeviceSpec(CLIMATE, DeviceKind.CLIMATE, Room.LIVING_ROOM),
    DeviceSpec(PENDANT, DeviceKind.PENDANT, None),
    DeviceSpec(WALL_BUTTON, DeviceKind.CALL_BUTTON, Room.HALL),
)

ROOM_OF_PIR = {device: room for room, device in PIR.items()}

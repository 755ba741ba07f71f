"""What a device tells the activity model: its room class and its role.

Real homes name things freely ("LoungeChair", "pir-living", "OutsideDoor"), so the class of a
device is inferred from its registry kind, room and id by keywords, and a map file or the
registry can say it outright. The same inference serves live homes and recorded ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Place(IntEnum):
    """Context classes of the model: where the last sign of life came from.

    ``OUT`` means the last thing that happened was the front door (probably out of home);
    ``BED`` and ``CHAIR`` mean a pressure sensor says someone is lying or sitting.
    """

    BEDROOM = 0
    BATHROOM = 1
    KITCHEN = 2
    LIVING = 3
    OTHER = 4
    OUT = 5
    BED = 6
    CHAIR = 7


PLACE_COUNT = len(Place)
#: Rooms where the day has begun once someone is active there (used for wake-up time).
DAY_PLACES = frozenset({Place.KITCHEN, Place.LIVING, Place.OTHER, Place.OUT, Place.CHAIR})


class Role(StrEnum):
    MOTION = "motion"
    FRONT_DOOR = "front_door"
    DOOR = "door"  # inner doors, cupboards, fridge: activity, not leaving
    BED = "bed"
    CHAIR = "chair"
    OTHER = "other"  # lights, switches, toilet flush: activity in a room
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class SensorInfo:
    role: Role
    place: Place
    label: str  # what the explanation calls it, e.g. "Kitchen"
    #: The device sees someone *there* for as long as they are (motion, a pressure mat),
    #: rather than an instant of use (a switch, tap, flush, cabinet or door contact).
    presence: bool = True


_PLACE_WORDS: tuple[tuple[str, Place], ...] = (
    ("bath", Place.BATHROOM),
    ("toilet", Place.BATHROOM),
    ("shower", Place.BATHROOM),
    ("wc", Place.BATHROOM),
    ("restroom", Place.BATHROOM),
    ("bedroom", Place.BEDROOM),
    ("sleep", Place.BEDROOM),
    ("closet", Place.BEDROOM),
    ("kitchen", Place.KITCHEN),
    ("cook", Place.KITCHEN),
    ("stove", Place.KITCHEN),
    ("fridge", Place.KITCHEN),
    ("refrigerator", Place.KITCHEN),
    ("living", Place.LIVING),
    ("lounge", Place.LIVING),
    ("sofa", Place.LIVING),
    ("couch", Place.LIVING),
    ("tv", Place.LIVING),
)
_FRONT_WORDS = ("front", "outside", "main", "entry", "entrance", "exit", "outer", "street")
#: Switches on things people use for an instant (MIT PlaceLab's 70-odd switches report
#: ON/OFF like a motion sensor does; their names say what they are).
_SWITCH_WORDS = re.compile(
    r"flush|faucet|tap(?![a-z])|switch|light|cabinet|cupboard|drawer|hamper|fan(?![a-z])|"
    r"closet|door|shower|dryer|washing|microwave|toaster|oven|fridge|refrigerator|freezer",
    re.IGNORECASE,
)
_BED_PRESSURE = re.compile(r"bed(?!room)", re.IGNORECASE)
_CHAIR_PRESSURE = re.compile(r"chair|couch|sofa|seat", re.IGNORECASE)
#: A chair word alone names a place, not a mat: CASAS calls its area motion sensors over a
#: chair "LoungeChair" or "Couch". A seat, or a chair word with pressure or cushion, is a mat.
_PRESSURE_WORDS = re.compile(r"seat|pressure|cushion", re.IGNORECASE)


def place_of(*names: str | None) -> Place:
    """The room class named by the first name that has a known keyword."""
    for name in names:
        if not name:
            continue
        lowered = name.lower()
        for word, place in _PLACE_WORDS:
            if word in lowered:
                return place
    return Place.OTHER


def is_front_door_name(*names: str | None) -> bool:
    """Door + front/outside/main/entry…, or an entry/hall door named only by its room."""
    text = " ".join(name.lower() for name in names if name)
    return "door" in text and any(word in text for word in _FRONT_WORDS)


def _is_seat_mat(device: str, room: str | None) -> bool:
    """A seat pressure mat by its name ("Seat", "ChairPressure"); a toilet seat is not one."""
    return (
        bool(_CHAIR_PRESSURE.search(device) and _PRESSURE_WORDS.search(device))
        and place_of(room, device) is not Place.BATHROOM
    )


def classify(
    device: str, kind: str | None = None, room: str | None = None, *, contact: bool = False
) -> SensorInfo:
    """Infer a device's role and place from what the registry (or a recording) says.

    ``contact`` says the device reports open/close states: only such a device can be the
    front door; a motion sensor called "OutsideDoor" watches the hall.
    """
    kind_l = (kind or "").lower()
    label = room or device
    if kind_l in {"call_button", "pendant", "smoke", "gas", "water", "temperature", "ignore"}:
        return SensorInfo(Role.IGNORE, place_of(room, device), label)
    if kind_l == "front_door" or (
        (contact or "door" in kind_l) and is_front_door_name(device, room, kind)
    ):
        # A door contact, like any other: the resident who came in is not seen in the hall
        # for as long as they are there, so the quiet after it is a spell (``presence``).
        return SensorInfo(Role.FRONT_DOOR, Place.OUT, label, presence=False)
    if kind_l in {"bed", "bed_pressure"} or (
        kind_l not in {"motion", "light"} and not contact and _BED_PRESSURE.search(device)
    ):
        return SensorInfo(Role.BED, Place.BED, label)
    if kind_l in {"chair", "chair_pressure"} or (
        not kind_l and not contact and _is_seat_mat(device, room)
    ):
        return SensorInfo(Role.CHAIR, Place.CHAIR, label)
    if contact or "door" in kind_l or "contact" in kind_l or "cabinet" in kind_l:
        return SensorInfo(Role.DOOR, place_of(room, device), label, presence=False)
    if kind_l in {"motion", "pir"}:
        return SensorInfo(Role.MOTION, place_of(room, device), label)
    if not kind_l:
        switch = bool(_SWITCH_WORDS.search(f"{device} {room or ''}"))
        return SensorInfo(Role.MOTION, place_of(room, device), label, presence=not switch)
    return SensorInfo(Role.OTHER, place_of(room, device), label, presence=False)


class SensorDirectory:
    """Device → meaning, from explicit entries (registry, map file) or inferred from the id."""

    def __init__(self, known: Mapping[tuple[str, str], SensorInfo] | None = None) -> None:
        self._known: dict[tuple[str, str], SensorInfo] = dict(known or {})
        #: Inferred meanings depend on the id only, so homes with the same ids share them.
        self._inferred: dict[tuple[str, bool], SensorInfo] = {}

    def set(self, home: str, device: str, info: SensorInfo) -> None:
        self._known[(home, device)] = info

    def lookup(self, home: str, device: str, *, contact: bool = False) -> SensorInfo:
        info = self._known.get((home, device))
        if info is None:
            info = self._inferred.get((device, contact))
            if info is None:
                info = self._inferred[(device, contact)] = classify(device, contact=contact)
        return info

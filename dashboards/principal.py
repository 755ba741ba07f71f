"""Who is asking: the role and the one place that role is tied to.

Every read and write in the dashboard is decided from a ``Principal``; nothing else about
the person (name, password) matters past the login.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"  # a station's (驿站) staff: that station's homes
    SUPERVISOR = "supervisor"  # a regional service centre: the homes of its stations
    FAMILY = "family"  # a relative: one home
    ADMIN = "admin"  # everything


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    station_id: str | None = None  # the station (staff) or the centre (supervisor)
    home_id: str | None = None  # the relative's home (family)
    language: str = "zh-CN"
    user_id: int | None = None  # None for a family member who came through a signed link

    @property
    def is_responder(self) -> bool:
        """Staff, supervisors and admins run the wall; family members only see their home."""
        return self.role is not Role.FAMILY


def principal_is_valid(role: Role, station_id: str | None, home_id: str | None) -> str | None:
    """Why this combination cannot be a user, or None: a role without its place sees nothing."""
    if role in (Role.STAFF, Role.SUPERVISOR) and not station_id:
        return f"a {role} needs a station"
    if role is Role.FAMILY and not home_id:
        return "a family member needs a home"
    if role is Role.ADMIN and (station_id or home_id):
        return "an admin is not tied to a station or home"
    return None

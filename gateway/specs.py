"""What an installer writes down about a home: the registry's input, as YAML, CSV or JSON.

One pydantic model per thing, ``extra="forbid"`` so a misspelt column fails the import with
its line instead of being silently dropped. The same models are the REST request bodies, so
the CLI, the API and the import files cannot drift apart.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic.dataclasses import dataclass

from eldercare.models import HOME_GATEWAY_DEVICE, Ident
from eldercare.vocabulary import DEFAULT_TIMEZONE

#: Device kinds are open-ended (detectors add their own), but look like identifiers.
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
#: zigbee2mqtt friendly names may contain '/', never MQTT wildcards, spaces or a trailing
#: channel word that zigbee2mqtt itself appends.
ZigbeeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$")]
_ZIGBEE_SUFFIXES = ("/availability", "/set", "/get")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class DeviceSpec:
    """One device of a home. Positional ``DeviceSpec(id, kind, room)`` for the simulator."""

    id: Ident
    kind: Kind
    room: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=100, description="vendor model id")
    heartbeat_s: int | None = Field(
        default=None, gt=0, le=7 * 86400, description="expected interval between messages"
    )
    zigbee_name: ZigbeeName | None = Field(default=None, description="zigbee2mqtt friendly name")
    battery_changed_at: AwareDatetime | None = None

    def __post_init__(self) -> None:
        if self.id == HOME_GATEWAY_DEVICE:
            raise ValueError(f"device id {HOME_GATEWAY_DEVICE!r} is reserved for the home itself")
        if self.zigbee_name and self.zigbee_name.endswith(_ZIGBEE_SUFFIXES):
            raise ValueError(f"zigbee name may not end with {'/'.join(_ZIGBEE_SUFFIXES)}")


#: A phone number as people write it (``+86 138 0000 0000``, ``010-1234 5678``): digits with
#: spaces, dashes, dots, brackets and a leading plus; empty when there is none.
Phone = Annotated[str, Field(max_length=40, pattern=r"^(\+?[0-9 ()./-]{3,40})?$")]


class ResidentSpec(Spec):
    name: str = Field(min_length=1, max_length=200)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    care_notes: str = Field(default="", max_length=5000)
    phone: Phone = ""


class ContactSpec(Spec):
    name: str = Field(min_length=1, max_length=200)
    relation: str = Field(default="", max_length=50)
    phone: Phone = ""
    language: str = Field(default="zh-CN", max_length=10)
    channels: list[str] = Field(default_factory=list, description="apprise URLs, in order")


class HomeSpec(Spec):
    """A home and what is in it. Lists replace what the registry had for that home."""

    id: Ident
    name: str = Field(default="", max_length=200)
    station: Ident | None = None
    address: str = Field(default="", max_length=300)
    access_notes: str = Field(default="", max_length=5000)
    timezone: str = Field(default=DEFAULT_TIMEZONE, max_length=50)
    devices: list[DeviceSpec] = Field(default_factory=list)
    residents: list[ResidentSpec] | None = Field(
        default=None, description="absent: keep the registry's; [] clears them"
    )
    contacts: list[ContactSpec] | None = Field(default=None, description="called in list order")

    @model_validator(mode="after")
    def _unique_device_ids(self) -> Self:
        ids = [device.id for device in self.devices]
        if len(ids) != len(set(ids)):
            raise ValueError(f"home {self.id}: device ids repeat")
        return self


class StaffSpec(Spec):
    id: Ident
    name: str = Field(min_length=1, max_length=200)
    role: Literal["duty", "technician", "supervisor"] = "duty"
    channels: list[str] = Field(default_factory=list)
    active: bool = True


class StationSpec(Spec):
    id: Ident
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["station", "centre"] = "station"
    centre: Ident | None = None
    phone: Phone = Field(default="", description="the number residents and relatives call")
    staff: list[StaffSpec] = Field(default_factory=list)


class RegistryDocument(Spec):
    """A whole import file. Applying the same document twice changes nothing."""

    stations: list[StationSpec] = Field(default_factory=list)
    homes: list[HomeSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _zigbee_names_unique(self) -> Self:
        names = [d.zigbee_name for h in self.homes for d in h.devices if d.zigbee_name]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"zigbee names used twice: {', '.join(repeated)}")
        return self


class SpecError(ValueError):
    """The file cannot be imported; the message names the file, row and field."""


#: CSV columns: one device per row; home columns repeat and the first row of a home wins.
CSV_COLUMNS = (
    "home",
    "home_name",
    "station",
    "device",
    "kind",
    "room",
    "model",
    "heartbeat_s",
    "zigbee_name",
    "battery_changed_at",
)


def parse_csv(text: str) -> RegistryDocument:
    """Installers keep device lists in spreadsheets: one row per device, homes implied."""
    reader = csv.DictReader(io.StringIO(text))
    unknown = set(reader.fieldnames or ()) - set(CSV_COLUMNS)
    if unknown or not {"home", "device", "kind"} <= set(reader.fieldnames or ()):
        raise SpecError(
            f"CSV columns must be among {', '.join(CSV_COLUMNS)} and include home, device, kind;"
            f" unknown: {', '.join(sorted(unknown)) or '-'}"
        )
    homes: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        values = {key: (value or "").strip() or None for key, value in row.items()}
        if not values["home"]:
            raise SpecError(f"line {line}: home is empty")
        home = homes.setdefault(
            values["home"],
            {
                "id": values["home"],
                "name": values.get("home_name") or "",
                "station": values.get("station"),
                "devices": [],
            },
        )
        device = {
            key: values.get(key)
            for key in ("kind", "room", "model", "heartbeat_s", "zigbee_name", "battery_changed_at")
        }
        home["devices"].append({"id": values["device"], **device})
    return _validated({"homes": list(homes.values())}, "CSV")


def parse_yaml(text: str) -> RegistryDocument:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise SpecError(f"not valid YAML: {error}") from None
    return _validated(data, "YAML")


def _validated(data: Any, kind: str) -> RegistryDocument:
    try:
        return RegistryDocument.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()[:5]
        )
        raise SpecError(f"{kind} does not match the registry schema: {problems}") from None


def load_document(path: Path) -> RegistryDocument:
    """Read an import file; the suffix says the format (.yaml/.yml/.json or .csv)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return parse_csv(text)
    if path.suffix.lower() in {".yaml", ".yml", ".json"}:
        return parse_yaml(text)  # JSON is YAML
    raise SpecError(f"{path}: unknown format {path.suffix!r} (use .yaml, .json or .csv)")

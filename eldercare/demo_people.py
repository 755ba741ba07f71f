"""The demo's people, so that escalation can be watched without any real phone.

A station with its duty officer, a regional centre above it, one relative per home, and the
emergency and operators channels all "receive" on an inbox served in the demo process: it
logs each message (who, the title, the text with its signed acknowledgement link) as one
``demo_notification`` line. Without them every tier finds nobody, and the demo's log is a
column of ``tier_has_nobody`` errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import alerting.policies
from eldercare.logs import get_logger
from gateway.specs import (
    ContactSpec,
    DeviceSpec,
    HomeSpec,
    RegistryDocument,
    ResidentSpec,
    StaffSpec,
    StationSpec,
)

log = get_logger("demo.inbox")

STATION, CENTRE = "s-demo", "c-demo"


def inbox_url(port: int, who: str) -> str:
    """The apprise URL of one demo recipient (a JSON webhook to the inbox)."""
    return f"json://127.0.0.1:{port}/inbox/{who}"


async def _receive(request: Request) -> Response:
    message = await request.json()
    log.info(
        "demo_notification",
        to=request.path_params["who"],
        title=message.get("title", ""),
        message=message.get("message", ""),
    )
    return Response(status_code=204)


async def serve_inbox(port: int) -> None:
    """Until cancelled: accept the demo's notifications and log them."""
    app = Starlette(routes=[Route("/inbox/{who}", _receive, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    await uvicorn.Server(config).serve()


def registry_document(
    homes: Sequence[tuple[str, Sequence[DeviceSpec]]], port: int
) -> RegistryDocument:
    """The demo homes with their devices, placed in the demo station, each with a relative."""
    return RegistryDocument(
        stations=[
            StationSpec(
                id=CENTRE,
                name="区域服务中心（演示）",
                kind="centre",
                staff=[StaffSpec(id="centre", name="周主任", channels=[inbox_url(port, "centre")])],
            ),
            StationSpec(
                id=STATION,
                name="和平驿站（演示）",
                centre=CENTRE,
                staff=[
                    StaffSpec(id="duty", name="王芳", channels=[inbox_url(port, "station")]),
                    StaffSpec(
                        id="tech",
                        name="赵工",
                        role="technician",
                        channels=[inbox_url(port, "technician")],
                    ),
                ],
            ),
        ],
        homes=[
            HomeSpec(
                id=home_id,
                name=home_id,
                station=STATION,
                devices=list(devices),
                residents=[ResidentSpec(name="演示老人")],
                contacts=[
                    ContactSpec(
                        name="家属",
                        relation="child",
                        channels=[inbox_url(port, f"family-{home_id}")],
                    )
                ],
            )
            for home_id, devices in homes
        ],
    )


def write_policies(folder: Path, port: int) -> Path:
    """The built-in policy with the emergency and operators channels on the inbox."""
    builtin = Path(alerting.policies.__file__).with_name("default.yaml")
    policy = yaml.safe_load(builtin.read_text())
    policy["channels"] = {
        "emergency": [inbox_url(port, "emergency")],
        "operators": [inbox_url(port, "operators")],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "default.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True))
    return folder

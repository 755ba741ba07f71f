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
from eldercare.web import GRACEFUL_S, EmbeddedServer
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
#: Fictional numbers: the station's (on the family page) and each relative's (on the wall).
STATION_PHONE = "010-6000 0100"


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
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_S,
    )
    # Stops with the demo: a plain uvicorn server took the signals itself and, with a message
    # in flight, held the demo's shutdown past its grace period.
    await EmbeddedServer(config).serve_until_cancelled()


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
                phone=STATION_PHONE,
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
            _home(index, home_id, devices, port) for index, (home_id, devices) in enumerate(homes)
        ],
    )


#: Fictional people, so the wall looks like a station's: who, where, what to know.
#: (resident, birth year, care notes, street, relative, relation)
PEOPLE = (
    ("李秀英", 1938, "高血压，独居；钥匙在邻居家（302）", "和平路12号3单元201", "李明", "儿子"),
    ("张桂兰", 1941, "糖尿病，夜间常起床", "建设街8号1单元502", "张伟", "女儿"),
    ("王建国", 1935, "左腿不便，用助行器", "和平路20号2单元101", "王丽", "女儿"),
    ("刘玉珍", 1944, "轻度认知障碍", "幸福里5号4单元302", "刘洋", "儿子"),
    ("陈德明", 1939, "心脏起搏器", "建设街15号1单元601", "陈静", "侄女"),
    ("杨淑芬", 1946, "听力弱，敲门需大声", "幸福里9号2单元402", "杨帆", "儿子"),
    ("赵长林", 1937, "独居，女儿在外地", "和平路3号1单元102", "赵敏", "女儿"),
    ("黄美华", 1943, "骨质疏松，曾跌倒", "建设街22号3单元301", "黄磊", "儿子"),
)


def _home(index: int, home_id: str, devices: Sequence[DeviceSpec], port: int) -> HomeSpec:
    resident, born, notes, street, relative, relation = PEOPLE[index % len(PEOPLE)]
    return HomeSpec(
        id=home_id,
        name=f"{resident}家",
        station=STATION,
        address=f"演示市和平区{street}",
        devices=list(devices),
        residents=[ResidentSpec(name=resident, birth_year=born, care_notes=notes)],
        contacts=[
            ContactSpec(
                name=relative,
                relation=relation,
                phone=relative_phone(index),
                channels=[inbox_url(port, f"family-{home_id}")],
            )
        ],
    )


def relative_phone(index: int) -> str:
    return f"138 0000 {index + 1:04d}"


#: The first demo home's relative: the demo prints a family link in their name.
FIRST_RELATIVE = PEOPLE[0][4]


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

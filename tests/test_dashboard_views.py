"""Pure pieces behind the pages: liveness heard on the bus, "is Mum OK", the day strip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.activity import ActivityBoard
from dashboards.family import FamilyStatus, family_status
from dashboards.homes import connectivity, mode_view
from dashboards.rendering import day_position, local_time
from dashboards.schemas import DeviceView, HomeDetail, HomeModeName, HomeModeView
from eldercare.db.models import HomeModeRow
from eldercare.models import DeviceState, DeviceStatus, Event, EventType
from eldercare.topics import Topics

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TOPICS = Topics()


def event(kind: EventType, at: datetime, device: str = "pir-living", seq: int = 1) -> bytes:
    return Event(home="h-1", device=device, seq=seq, ts=at, type=kind).to_json()


class RecordedLog:
    """Stands in for the ``ActivityLog``: what the board hands it to store."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def record(self, event: Event) -> None:
        self.events.append(event)


async def test_activity_board_tracks_liveness_and_stores_real_activity_only() -> None:
    log = RecordedLog()
    board = ActivityBoard(TOPICS, log)  # type: ignore[arg-type]
    assert {(s.topic_filter, s.handler) for s in board.subscriptions()} == {
        ("eldercare/v1/_normalised/+/+/+/status", board.handle),
        ("eldercare/v1/_normalised/+/+/+/event", board.handle),
    }
    event_topic = TOPICS.normalised("h-1", "pir-living", "event")
    status_topic = TOPICS.normalised("h-1", "btn-hall", "status")

    await board.handle(event_topic, event(EventType.HEARTBEAT, NOW))
    assert log.events == []  # a heartbeat is the device, not the resident
    assert board.device("h-1", "pir-living").last_seen == NOW

    await board.handle(event_topic, event(EventType.MOTION, NOW, seq=2))
    assert [e.seq for e in log.events] == [2]

    offline = DeviceStatus(home="h-1", device="btn-hall", state=DeviceState.OFFLINE, ts=NOW)
    await board.handle(status_topic, offline.to_json())
    assert board.device("h-1", "btn-hall").state is DeviceState.OFFLINE
    await board.handle(status_topic, b"{garbage")  # ignored, never raised
    assert board.device("h-1", "nothing").state is None


def device(state: str) -> DeviceView:
    return DeviceView(
        device_id=state, kind="k", room=None, state=state, last_seen=None, battery_warning=False
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((), "unknown"),
        (("unknown", "unknown"), "unknown"),
        (("online", "unknown"), "online"),
        (("online", "offline"), "partial"),
        (("offline", "offline"), "offline"),
        (("offline", "unknown"), "partial"),
    ],
)
def test_connectivity(states: tuple[str, ...], expected: str) -> None:
    assert connectivity([device(state) for state in states]) == expected


def test_home_mode_ends_by_itself() -> None:
    row = HomeModeRow(
        home_id="h-1",
        mode="hospital",
        until=NOW + timedelta(days=1),
        note="",
        set_by="王芳",
        set_at=NOW,
    )
    assert mode_view(row, NOW) is not None
    assert mode_view(row, NOW + timedelta(days=1)) is None
    row.until = None
    assert mode_view(row, NOW + timedelta(days=100)) is not None  # until changed
    row.mode = "home"
    assert mode_view(row, NOW) is None


def home(**changes: object) -> HomeDetail:
    base = {
        "home_id": "h-1",
        "name": "张奶奶家",
        "station_id": "s-1",
        "mode": None,
        "connectivity": "online",
        "devices_offline": [],
        "battery_warnings": [],
        "last_activity": NOW - timedelta(hours=1),
        "last_activity_device": "pir-living",
        "open_alerts": 0,
        "address": "",
        "timezone": "Asia/Shanghai",
        "station_phone": "",
        "residents": [],
        "contacts": [],
        "devices": [],
        "alerts": [],
    }
    return HomeDetail.model_validate({**base, **changes})


def test_family_status() -> None:
    assert family_status(home(), NOW) is FamilyStatus.OK
    # 07:59 Shanghai is today; 23:59 the evening before is not.
    assert family_status(home(last_activity=datetime(2026, 11, 24, 23, 59, tzinfo=UTC)), NOW) is (
        FamilyStatus.OK
    )
    assert family_status(home(last_activity=datetime(2026, 11, 24, 15, 59, tzinfo=UTC)), NOW) is (
        FamilyStatus.NO_ACTIVITY
    )
    assert family_status(home(last_activity=None), NOW) is FamilyStatus.NO_ACTIVITY
    # 22:30 UTC is 06:30 today in Shanghai but 23:30 yesterday in Berlin (03:00 there now).
    late = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
    assert family_status(home(last_activity=late), NOW) is FamilyStatus.OK
    in_berlin = home(last_activity=late, timezone="Europe/Berlin")
    assert family_status(in_berlin, NOW) is FamilyStatus.NO_ACTIVITY
    away = HomeModeView(mode=HomeModeName.HOSPITAL, until=None, note="", set_by="王芳", set_at=NOW)
    assert family_status(home(mode=away, last_activity=None), NOW) is FamilyStatus.AWAY


def test_times_are_shown_in_the_homes_timezone() -> None:
    assert local_time(NOW) == "11-25 10:00"
    assert day_position(NOW, NOW) == pytest.approx(41.67)
    assert day_position(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), NOW) == 0  # local midnight
    assert day_position(NOW - timedelta(days=1), NOW) is None

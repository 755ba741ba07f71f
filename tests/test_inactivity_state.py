"""Compact per-home state (DESIGN §8, issues 18 and 20) changes neither behaviour nor what
an older checkpoint restores to."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from detector.activity.rule import COMPRESSED, InactivityRule
from eldercare.models import DeviceState, DeviceStatus, Event, EventType

#: Written by the code before the state was compacted and the snapshot deflated (main at
#: 40a1cf5): two homes, two mornings each, seqs numbered by the microsecond in one, a climate
#: sensor the gateway reported offline.
PLAIN = Path(__file__).parent / "fixtures" / "inactivity_checkpoint_plain_json.json"


def test_a_checkpoint_in_the_plain_json_format_restores_to_the_same_state() -> None:
    written = PLAIN.read_bytes()
    rule = InactivityRule()
    rule.restore(written)
    snapshot = rule.snapshot()
    assert snapshot.startswith(COMPRESSED)
    assert json.loads(zlib.decompress(snapshot[len(COMPRESSED) :])) == json.loads(written)
    assert len(snapshot) < len(written) / 3

    again = InactivityRule()
    again.restore(snapshot)
    assert again.snapshot() == snapshot
    for home, data in json.loads(written).items():
        state = again.homes[home]
        assert state.offline == {"climate-living": "gone"}
        for device, (highest, _) in data["seqs"].items():  # the anti-replay windows hold
            assert state.duplicate(device, highest)
            assert not state.duplicate(device, highest + 1)


#: Written by ``_learned_rule`` on main at 8ac6daa, before the state per home was packed
#: (issue 18: place columns, packed devices, seldom fields): two homes that learned for 9
#: and 12 days, one in holiday mode, each with a device the gateway says is offline.
MAIN = Path(__file__).parent / "fixtures" / "inactivity_checkpoint_main_8ac6daa.bin"
DAY = (
    (6.5, "pir-bedroom", EventType.MOTION),
    (6.6, "bed-bedroom", EventType.BED_EMPTY),
    (6.8, "pir-bathroom", EventType.MOTION),
    (6.9, "toilet-bathroom", EventType.TOILET_FLUSH),
    (7.0, "pir-kitchen", EventType.MOTION),
    (8.5, "pir-living-room", EventType.MOTION),
    (10.0, "door-front", EventType.DOOR_OPEN),
    (10.01, "door-front", EventType.DOOR_CLOSE),
    (11.5, "door-front", EventType.DOOR_OPEN),
    (11.51, "door-front", EventType.DOOR_CLOSE),
    (11.6, "pir-hall", EventType.MOTION),
    (12.5, "pir-kitchen", EventType.MOTION),
    (15.0, "pir-living-room", EventType.MOTION),
    (18.0, "pir-kitchen", EventType.MOTION),
    (21.5, "pir-bathroom", EventType.MOTION),
    (22.0, "pir-bedroom", EventType.MOTION),
    (22.1, "bed-bedroom", EventType.BED_OCCUPIED),
    (26.0, "pir-bathroom", EventType.MOTION),
    (26.2, "pir-bedroom", EventType.MOTION),
)


def _learned_rule() -> InactivityRule:
    rule = InactivityRule()
    start = datetime(2026, 11, 2, tzinfo=UTC)
    for number, home in enumerate(("h-a", "h-b")):
        seq = 1
        for day in range(9 + 3 * number):
            for hour, device, kind in DAY:
                at = start + timedelta(days=day, hours=hour - 8 + 0.1 * number)
                rule.on_event(Event(home=home, device=device, seq=seq, ts=at, type=kind), at)
                seq += 1
            beat = start + timedelta(days=day, hours=4)
            heartbeat = Event(home=home, device="hub", seq=seq, ts=beat, type=EventType.HEARTBEAT)
            rule.on_event(heartbeat, beat)
            seq += 1
        down = DeviceState.OFFLINE
        status = DeviceStatus(home=home, device="climate-living", state=down, reason="gone", ts=at)
        rule.on_status(status, at)
    rule.set_away("h-b", start + timedelta(days=20), "hospital")
    return rule


def test_learned_homes_checkpointed_by_main_restore_and_learn_the_same_as_before() -> None:
    """The packed layout keeps the checkpoint's format: what main wrote restores to the same
    snapshot, and the same days learned now write the same bytes."""
    written = MAIN.read_bytes()
    rule = InactivityRule()
    rule.restore(written)
    assert rule.snapshot() == written
    assert rule.homes["h-b"].away_reason == "hospital"
    assert rule.homes["h-a"].model.places  # learned places have their columns back
    assert _learned_rule().snapshot() == written

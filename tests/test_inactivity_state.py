"""Compact per-home state (DESIGN §8, issues 18 and 20) changes neither behaviour nor what
an older checkpoint restores to."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from detector.activity.rule import COMPRESSED, InactivityRule

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

"""Properties of the decisions: liveness never repeats itself, motion never runs backwards."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from eldercare.models import HOME_GATEWAY_DEVICE, DeviceState, DeviceStatus, EventType
from gateway.liveness import LivenessTracker
from gateway.motion import occupancy_changed
from gateway.profiles import ModelProfile
from gateway.registry import RegistrySnapshot
from tests.gateway_support import START, device

HOME = "h-1"
DEVICES = [
    device(HOME, "hub", "hub", heartbeat_s=60),
    device(HOME, "pir", "motion", heartbeat_s=120),
    device(HOME, "door", "door"),
]

operations = st.lists(
    st.tuples(
        st.integers(0, 900),  # seconds later
        st.sampled_from(["seen", "online", "offline", "battery", "check"]),
        st.sampled_from([d.id for d in DEVICES]),
        st.integers(0, 100),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(operations=operations)
def test_liveness_publishes_only_changes(operations: list[tuple[int, str, str, int]]) -> None:
    tracker = LivenessTracker(START)
    tracker.sync(RegistrySnapshot.of(DEVICES), START)
    now = START
    published: list[DeviceStatus] = []
    for seconds, operation, device_id, percent in operations:
        now += timedelta(seconds=seconds)
        if operation == "seen":
            published += tracker.seen(HOME, device_id, now)
        elif operation in ("online", "offline"):
            status = DeviceStatus(home=HOME, device=device_id, state=DeviceState(operation))
            published += tracker.reported(status, now)
        elif operation == "battery":
            published += tracker.seen(HOME, device_id, now)
            published += tracker.battery(HOME, device_id, percent, now)
        else:
            published += tracker.check(now)
    last: dict[str, tuple[DeviceState, object]] = {}
    for status in published:
        key = (status.state, status.battery)
        assert last.get(status.device) != key, f"repeated {status.device} {key}"
        last[status.device] = key
    home = [s.state for s in published if s.device == HOME_GATEWAY_DEVICE]
    assert all(a is not b for a, b in pairwise(home)), home


@settings(max_examples=300, deadline=None)
@given(
    reports=st.lists(st.tuples(st.integers(0, 400), st.booleans()), max_size=30),
    hold=st.floats(5, 300),
    silent=st.booleans(),
)
def test_motion_events_never_run_backwards(
    reports: list[tuple[int, bool]], hold: float, silent: bool
) -> None:
    profile = ModelProfile(motion_hold_s=hold, silent_retrigger=silent)
    state = None
    now = START
    last_motion = None
    for seconds, occupied in reports:
        now += timedelta(seconds=seconds)
        events, state = occupancy_changed(profile, state, occupied, now)
        for event in events:
            assert event.ts <= now
            if event.type is EventType.MOTION:
                assert last_motion is None or event.ts >= last_motion
                last_motion = event.ts
            else:
                assert event.type is EventType.NO_MOTION and last_motion is not None
                assert event.value["last_motion"] == last_motion.isoformat()

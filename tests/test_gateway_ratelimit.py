"""Per-device rate limits at the gateway, and every per-device structure bounded (issue 19)."""

from __future__ import annotations

import pytest

from eldercare.bounded import SeqWindow
from eldercare.clock import SimulatedClock
from eldercare.models import Event, EventType
from eldercare.settings import DeviceRate, DeviceRateLimits, Settings
from gateway import service
from gateway.registry import RegistrySnapshot
from gateway.service import Gateway
from tests.gateway_support import START, decoded, device

HOME = "h-0001"
LIMITS = DeviceRateLimits(default=DeviceRate(per_s=2, burst=5), report_s=60)


def make(limits: DeviceRateLimits = LIMITS, *devices: tuple[str, str]) -> Gateway:
    clock = SimulatedClock(START)
    gateway = Gateway(Settings(device_rate_limits=limits), clock)
    registered = devices or (("pir", "motion"), ("btn", "call_button"))
    gateway.set_registry(RegistrySnapshot.of(device(HOME, d, kind) for d, kind in registered))
    return gateway


def event(device_id: str, seq: int, kind: EventType = EventType.MOTION) -> tuple[str, bytes]:
    body = Event(home=HOME, device=device_id, seq=seq, ts=START, type=kind)
    return f"eldercare/v1/{HOME}/{device_id}/event", body.to_json()


async def test_a_flooding_device_is_cut_to_its_budget_counted_and_flagged_once() -> None:
    gateway = make()
    outs = [await gateway.handle(*event("pir", seq)) for seq in range(1, 501)]
    passed = [out for out in outs if decoded(out, "event")]
    assert len(passed) == 5  # the burst; the clock stands still, so nothing refills
    records = [record for out in outs for record in decoded(out, "quarantine")]
    assert len(records) == 1, "one summary per device per window, not one per message"
    assert records[0]["reason"].startswith("rate_limited: 1 messages over 2/s (burst 5)")
    statuses = [s for out in outs for s in decoded(out, "status") if s["device"] == "pir"]
    assert [s["reason"].split(":")[0] for s in statuses] == ["seen", "rate_limited"]
    assert statuses[1]["state"] == "online"
    assert gateway.rate_limiter.dropped_by(HOME, "pir") == 495

    # The rest of the flood is reported when its window has passed, with the count.
    assert not decoded(gateway.tick(), "quarantine")
    assert isinstance(gateway.clock, SimulatedClock)
    await gateway.clock.advance(61)
    tail = decoded(gateway.tick(), "quarantine")
    assert [record["reason"].split(",")[0] for record in tail] == [
        "rate_limited: 494 messages over 2/s (burst 5) dropped"
    ]

    # Budget refills with time: the device is heard again.
    assert decoded(await gateway.handle(*event("pir", 1000)), "event")


async def test_life_safety_events_pass_even_over_budget() -> None:
    gateway = make()
    for seq in range(1, 50):
        await gateway.handle(*event("btn", seq, EventType.HEARTBEAT))
    press = await gateway.handle(*event("btn", 50, EventType.CALL_BUTTON))
    assert [e["type"] for e in decoded(press, "event")] == ["call_button"]
    assert decoded(await gateway.handle(*event("btn", 51, EventType.CANCEL_BUTTON)), "event")
    assert not decoded(await gateway.handle(*event("btn", 52, EventType.HEARTBEAT)), "event")
    # A motion sensor cannot raise a call: over budget, its excess is dropped unread.
    for seq in range(1, 10):
        await gateway.handle(*event("pir", seq))
    assert not decoded(await gateway.handle(*event("pir", 10, EventType.CALL_BUTTON)), "event")


async def test_kinds_have_their_own_budgets() -> None:
    limits = DeviceRateLimits(
        default=DeviceRate(per_s=1, burst=2), per_kind={"pendant": DeviceRate(per_s=1, burst=20)}
    )
    gateway = make(limits, ("pir", "motion"), ("pend", "pendant"))
    motion = [await gateway.handle(*event("pir", seq)) for seq in range(1, 21)]
    pendant = [await gateway.handle(*event("pend", seq)) for seq in range(1, 21)]
    assert sum(bool(decoded(out, "event")) for out in motion) == 2
    assert sum(bool(decoded(out, "event")) for out in pendant) == 20


async def test_unknown_device_ids_do_not_grow_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19 defect 6: 400 k made-up ids took the gateway from 122 to 284 MB."""
    monkeypatch.setattr(service, "MAX_REJECT_COUNTS", 500)
    limits = DeviceRateLimits(max_devices=300)
    gateway = make(limits)
    for number in range(2_000):
        await gateway.handle(*event(f"ghost-{number}", 1))
    assert len(gateway.quarantined_by_device) <= 500
    assert gateway.quarantined_by_device.evictions == 1_500
    assert len(gateway.rate_limiter) <= 300
    assert gateway.rate_limiter.evictions == 1_700
    assert len(gateway._reported_unknown) <= service.MAX_UNKNOWN_REPORTED
    # The newest ids are still counted.
    assert gateway.quarantined_by_device[(HOME, "ghost-1999")] == 1


def test_seq_window_forgets_the_least_recently_heard_devices() -> None:
    window = SeqWindow(max_devices=100)
    for number in range(1_000):
        assert window.first_time(HOME, f"d-{number}", (1, START))
    assert len(window.devices) == 100
    assert window.devices.evictions == 900
    assert not window.first_time(HOME, "d-999", (1, START)), "recent devices are remembered"

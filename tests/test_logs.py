"""Structured logs keep working after whoever configured them has gone."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timedelta

import pytest
import structlog

from eldercare.clock import SimulatedClock
from eldercare.logs import configure_logging, get_logger
from eldercare.models import Event, EventType
from tests.gateway_support import START, device, make_gateway

HOME = "h-0001"


def test_a_log_line_goes_to_the_current_stderr_even_after_the_old_one_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("INFO", json=True)  # as a CLI run under a test runner does
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    get_logger("gateway").info("payload_quarantined", home="h-0001", device="btn-hall")
    line = json.loads(second.getvalue())
    assert (line["event"], line["home"], line["device"]) == (
        "payload_quarantined",
        "h-0001",
        "btn-hall",
    )
    assert line["component"] == "gateway"


def test_human_readable_lines_have_no_colour_codes_when_not_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captured = io.StringIO()  # a file or a journal, not a terminal
    monkeypatch.setattr(sys, "stderr", captured)
    configure_logging("INFO", json=False)
    get_logger("demo").info("demo_notification", home="h-0001")
    assert "demo_notification" in captured.getvalue()
    assert "\x1b[" not in captured.getvalue()


async def test_device_statuses_at_start_are_debug_and_later_transitions_info() -> None:
    """A station's start made one INFO line per device (85 at the demo): only transitions after
    the first known state are news; a repeat of the same state (a rate-limit flag) is not."""
    clock = SimulatedClock(START)
    devices = [device(HOME, f"pir-{n}", "motion", heartbeat_s=60) for n in range(5)]
    gateway = make_gateway(devices, clock)
    configure_logging("DEBUG")
    with structlog.testing.capture_logs() as logs:
        for seq, spec in enumerate(devices, start=1):  # the first word of each device
            event = Event(home=HOME, device=spec.id, seq=seq, ts=START, type=EventType.MOTION)
            await gateway.handle(f"eldercare/v1/{HOME}/{spec.id}/event", event.to_json())
        clock.set(START + timedelta(seconds=200))  # all past their deadline: now it matters
        gateway.tick()
    levels = [
        (line["device"], line["state"], line["log_level"])
        for line in logs
        if line["event"] == "device_status"
    ]
    at_start = [level for device_id, state, level in levels if state == "online"]
    assert at_start and set(at_start) == {"debug"}
    offline = [(d, level) for d, state, level in levels if state == "offline"]
    assert offline and {level for _, level in offline} == {"info"}, levels


def test_log_times_are_iso_with_their_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Message times carry the home's zone; a log time without one cannot be lined up."""
    for as_json in (True, False):
        captured = io.StringIO()
        monkeypatch.setattr(sys, "stderr", captured)
        configure_logging("INFO", json=as_json)
        get_logger("gateway").info("device_status", home="h-0001")
        line = captured.getvalue()
        stamp = json.loads(line)["timestamp"] if as_json else line.split()[0]
        assert datetime.fromisoformat(stamp).tzinfo is not None, line

"""Structured logs keep working after whoever configured them has gone."""

from __future__ import annotations

import io
import json
import sys

import pytest

from eldercare.logs import configure_logging, get_logger


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

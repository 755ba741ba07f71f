"""Pairs the gateway's two copies of one zigbee2mqtt press: the lane's and the main session's.

A native device numbers its messages, so the shared ``SeqWindow`` recognises the second copy
of a press. zigbee2mqtt numbers nothing (``last_seen`` is optional), and the gateway stamps a
z2m message by when it received it, so the two sessions would make two different presses of
one report. What is the same in both copies is the report itself: its bytes, on its device's
topic. Each session receives every report of a lane topic once and in the broker's order, so
the n-th unpaired copy of some bytes from one session is the n-th from the other; a copy that
finds no twin waits for it ``window`` long (the main session's backlog behind a flood).

What this cannot do is tell two identical reports apart when one session missed one of them
(QoS 0, a session away): the other report's copy then pairs with the wrong twin, and two
identical presses within the window count as one, which the open alert absorbs anyway.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from eldercare.bounded import LruDict

#: Longer than the main session's backlog has ever been behind a flood (minutes, issue 19);
#: a twin later than this is taken for a new press: one call too many, never one lost.
PAIR_WINDOW = timedelta(minutes=15)
#: Reports waited on per device and content; a flood of one identical press is one call.
MAX_WAITING = 32


class Session(StrEnum):
    MAIN = "main"
    LANE = "lane"


@dataclass(slots=True)
class _Waiting:
    """Unpaired copies of one report, all from one session (a twin pairs them off at once)."""

    session: Session
    times: deque[datetime] = field(default_factory=lambda: deque(maxlen=MAX_WAITING))


class LaneCopies:
    """``first_copy`` is true for the copy of a report that should be handled, false for its
    twin from the other session."""

    def __init__(self, window: timedelta = PAIR_WINDOW, max_reports: int = 10_000) -> None:
        self.window = window
        #: Reports still waiting for their twin; the least recent go first past the cap
        #: (``evictions``), and a press evicted unpaired is handled twice, never lost.
        self.waiting: LruDict[tuple[str, str, bytes], _Waiting] = LruDict(max_reports)
        self.paired = 0

    def first_copy(
        self, session: Session, home: str, device: str, payload: bytes, now: datetime
    ) -> bool:
        key = (home, device, hashlib.blake2b(payload, digest_size=16).digest())
        waiting = self.waiting.get(key)
        if waiting is not None:
            while waiting.times and now - waiting.times[0] > self.window:
                waiting.times.popleft()
            if waiting.times and waiting.session is not session:
                waiting.times.popleft()
                if not waiting.times:
                    self.waiting.pop(key)
                self.paired += 1
                return False
            waiting.session = session
        else:
            waiting = self.waiting.setdefault(key, lambda: _Waiting(session))
        waiting.times.append(now)
        return True

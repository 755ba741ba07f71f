"""Stop a service process cleanly on SIGTERM or SIGINT.

Containers (and ``kill PID``) send SIGTERM, which Python does not handle at all: the process
died without its ``finally`` blocks, so the detector's last checkpoint, the demo's private
mosquitto and its temp folder, and SQLite's WAL checkpoint were left behind. Both signals now
cancel the one main task, so every service unwinds through its TaskGroup and its cleanup, and
a second signal (or a shutdown stuck past the grace period) ends the process at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Coroutine
from typing import Any

from eldercare.logs import get_logger

log = get_logger("shutdown")

SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: A clean stop flushes checkpoints and disconnects; it must not hang the host's restart.
GRACE_S = 15.0


def run_until_stopped(coroutine: Coroutine[Any, Any, None], grace_s: float = GRACE_S) -> None:
    """``asyncio.run`` that turns SIGTERM/SIGINT into cancellation of ``coroutine``."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_until_stopped(coroutine, grace_s))


async def _until_stopped(coroutine: Coroutine[Any, Any, None], grace_s: float) -> None:
    loop = asyncio.get_running_loop()
    main = asyncio.ensure_future(coroutine)
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        if len(received) > 1:
            log.warning("shutdown_forced", signal=signal.Signals(signum).name)
            os._exit(128 + signum)
        log.info("shutdown_requested", signal=signal.Signals(signum).name, grace_s=grace_s)
        main.cancel()
        # A stop that hangs (a stuck connection, a blocking call) must still end the process.
        watchdog = threading.Timer(grace_s, _overdue, args=(signum,))
        watchdog.daemon = True
        watchdog.start()

    for signum in SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        await main
    except asyncio.CancelledError:
        if not received:
            raise
        log.info("stopped")
    finally:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)


def _overdue(signum: int) -> None:
    log.error("shutdown_overdue", signal=signal.Signals(signum).name)
    os._exit(128 + signum)

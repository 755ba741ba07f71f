"""The services as real processes (``eldercare run X``): started, killed, restarted, watched.

Each service runs in its own process group so that SIGKILL reaches everything it started,
and a crash nobody asked for is recorded (the harness restarts the service, as a container
restart policy would, so that one crash does not hide every later finding).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from eldercare.logs import get_logger

log = get_logger("chaos.processes")

STOP_GRACE_S = 15.0


@dataclass(frozen=True, slots=True)
class Crash:
    """A service that exited although nobody stopped it."""

    service: str
    at_s: float
    returncode: int


@dataclass
class ServiceProcess:
    name: str
    env: dict[str, str]
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    expected_down: bool = False
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eldercare", "run", self.name],
                env=self.env,
                cwd=self.folder,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self.expected_down = False
        self.starts += 1

    def signal(self, number: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            # ProcessLookupError: it died between poll and kill; nothing left to signal
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, number)

    def kill(self) -> None:
        self.expected_down = True
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM first (what a container stop sends: the services stop cleanly), SIGKILL after
        a grace."""
        self.expected_down = True
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    """All services of one run; ``check()`` records and restarts unexpected exits."""

    services: dict[str, ServiceProcess]
    started_at: float = field(default_factory=time.monotonic)
    crashes: list[Crash] = field(default_factory=list)

    def start_all(self) -> None:
        for service in self.services.values():
            service.start()

    def check(self) -> None:
        for service in self.services.values():
            if service.expected_down or service.process is None:
                continue
            code = service.process.poll()
            if code is not None:
                crash = Crash(service.name, round(time.monotonic() - self.started_at, 1), code)
                self.crashes.append(crash)
                log.warning("chaos_service_crashed", service=service.name, returncode=code)
                service.start()

    def stop_all(self) -> None:
        for service in self.services.values():
            service.expected_down = True
            service.signal(signal.SIGTERM)
        for service in self.services.values():
            service.stop()

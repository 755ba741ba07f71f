"""A private mosquitto for the demo and the tests: free port, own config, killed on exit.

Tests need their own broker so they can stop and restart it to prove reconnects; the demo
needs one so it runs on a fresh machine with nothing configured.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self


class BrokerUnavailable(RuntimeError):
    """No mosquitto binary: tell the user how to get one or to pass --broker."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


class LocalMosquitto:
    """``with LocalMosquitto() as broker: broker.url``; ``stop()``/``start()`` to test outages.

    The port stays the same across restarts, and persistence is on, so queued QoS 1
    messages of persistent sessions survive a broker restart like in production.
    """

    def __init__(self, port: int | None = None, extra_config: str = "") -> None:
        binary = find_mosquitto()
        if binary is None:
            raise BrokerUnavailable(
                "mosquitto not found: install it (apt-get install mosquitto) "
                "or pass --broker mqtt://host:port"
            )
        self.binary = binary
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="eldercare-mosquitto-"))
        self._config = self._dir / "mosquitto.conf"
        self._config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            # Started as root, mosquitto would drop to user "mosquitto", which may not write
            # our private folder: its persistence file (queued QoS 1 messages) would be lost.
            f"user {getpass.getuser()}\n"
            f"persistence_location {self._dir}/\n"
            "max_queued_messages 100000\n"
            f"{extra_config}"
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        log = (self._dir / "mosquitto.log").open("ab")
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self._config)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerUnavailable(
                    f"mosquitto exited with {self._process.returncode}; "
                    f"see {self._dir / 'mosquitto.log'}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise BrokerUnavailable(f"mosquitto did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

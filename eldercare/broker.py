"""A private mosquitto for the demo and the tests: free port, own config, killed on exit.

Tests need their own broker so they can stop and restart it to prove reconnects; the demo
needs one so it runs on a fresh machine with nothing configured.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

#: Per-session queue bounds, the same here and in ``deploy/mosquitto/mosquitto.conf`` (a test
#: checks). Past ``max_queued_messages`` mosquitto drops a session's QoS 1 messages, whoever
#: sent them ("Outgoing messages are being dropped for client …",
#: ``$SYS/broker/publish/messages/dropped``): the gateway lost call-button presses that way
#: behind one device's flood. The gateway now drains a single device's flood at acknowledgement
#: speed (per-device rate limits), so its queue grows only while it is down; a million messages
#: is about half an hour of 10 k homes' traffic, some 350 MB of broker memory at ~200 B
#: payloads. No bytes cap: a second limit would only be a second way to drop.
QUEUE_CONFIG = "max_queued_messages 1000000\nmax_queued_bytes 0\n"


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


def stop_process(process: subprocess.Popen[bytes] | None, grace_s: float) -> None:
    """SIGTERM (so a server can save what it holds), then SIGKILL after ``grace_s``."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LocalServer:
    """A private server process for the demo and the tests: ``with`` starts it, leaving the
    block stops it and removes its folder; ``stop()``/``start()`` in between stage outages."""

    _dir: Path
    _process: subprocess.Popen[bytes] | None
    stop_grace_s: float = 5.0

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        stop_process(self._process, grace_s=self.stop_grace_s)
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


class LocalMosquitto(LocalServer):
    """``with LocalMosquitto() as broker: broker.url``; ``stop()``/``start()`` to test outages.

    The port stays the same across restarts, and persistence is on, so queued QoS 1
    messages of persistent sessions survive a broker restart like in production.
    """

    def __init__(
        self,
        port: int | None = None,
        extra_config: str = "",
        *,
        password_file: Path | None = None,
        acl_file: Path | None = None,
    ) -> None:
        """With ``password_file`` (and optionally ``acl_file``) anonymous clients are refused,
        as in production; without, anyone may connect (demo and most tests)."""
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
            f"{self._run_as()}"
            f"{self._auth_config(password_file, acl_file)}"
            "persistence true\n"
            f"persistence_location {self._dir}/\n"
            f"{QUEUE_CONFIG}"
            # Without it a PUBACK waits for Nagle + delayed ACK: ~40 ms per QoS 1 round trip.
            "set_tcp_nodelay true\n"
            f"{extra_config}"
        )
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _run_as() -> str:
        """Started as root, mosquitto drops to user "mosquitto", which can read neither our
        private temp folder nor 0600 password files, nor write its persistence file there
        (queued QoS 1 messages would be lost): a private broker stays its starter's."""
        return "user root\n" if os.geteuid() == 0 else ""

    @staticmethod
    def _auth_config(password_file: Path | None, acl_file: Path | None) -> str:
        if password_file is None:
            if acl_file is not None:
                raise ValueError("an acl_file needs a password_file: ACLs are per user")
            return "allow_anonymous true\n"
        lines = f"allow_anonymous false\npassword_file {password_file.resolve()}\n"
        if acl_file is not None:
            lines += f"acl_file {acl_file.resolve()}\n"
        return lines

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        log = (self._dir / "mosquitto.log").open("ab")
        # Own session: Ctrl+C on the demo must reach our services, which then stop the broker
        # in order, instead of killing the broker under them.
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self._config)], stdout=log, stderr=log, start_new_session=True
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

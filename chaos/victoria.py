"""A private victoria-metrics: free port, own storage, stop/start to stage outages.

Used by the tests and by ``eldercare chaos`` (which is why it lives in an installed package).
VictoriaMetrics speaks the InfluxDB v2 write API (``/api/v2/write``) and stores each
``measurement`` + ``field`` as the metric ``measurement_field`` with the tags as labels,
which ``/api/v1/export`` hands back sample by sample: exactly what a loss count needs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from eldercare.broker import LocalServer, free_port

BINARY = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"

#: (metric name, sorted labels, timestamp ms, value): one stored sample.
Sample = tuple[str, tuple[tuple[str, str], ...], int, float]

_INFLUX_ROWS = re.compile(r'^vm_rows_inserted_total\{type="influx"\} (\d+)$', re.MULTILINE)


class LocalVictoriaMetrics(LocalServer):
    #: SIGTERM: the server stops answering; it flushes what it acknowledged to disk.
    stop_grace_s = 15.0

    def __init__(self) -> None:
        if not Path(BINARY).exists():
            raise RuntimeError(
                "victoria-metrics not found: run scripts/install-system-deps "
                "(apt-get install victoria-metrics)"
            )
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="eldercare-vm-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        log = (self._dir / "victoria-metrics.log").open("ab")
        self._process = subprocess.Popen(
            [
                BINARY,
                f"-storageDataPath={self._dir / 'data'}",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                "-retentionPeriod=100y",  # test points may be days old; default drops > 1 month
                "-loggerLevel=WARN",
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited; see {self._dir}")
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"victoria-metrics did not answer on {self.port} within {timeout}s")

    def export(self) -> Counter[Sample]:
        """Every stored sample, as a multiset (duplicates would count twice)."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=30).raise_for_status()
        response = httpx.post(
            f"{self.url}/api/v1/export",
            # "end" far ahead: points on a sped-up clock lie in the server's future
            data={
                "match[]": '{__name__=~".+"}',
                "start": "0",
                "end": str(int(time.time()) + 10**8),
            },
            timeout=60,
        )
        response.raise_for_status()
        samples: Counter[Sample] = Counter()
        for line in response.text.splitlines():
            series = json.loads(line)
            labels = dict(series["metric"])
            name = labels.pop("__name__")
            key = tuple(sorted(labels.items()))
            for value, ts in zip(series["values"], series["timestamps"], strict=True):
                samples[(name, key, int(ts), float(value))] += 1
        return samples

    def influx_rows_inserted(self) -> int:
        """Samples this process accepted over the InfluxDB write API since it started."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        match = _INFLUX_ROWS.search(text)
        return int(match.group(1)) if match else 0

"""The load generator against a private mosquitto: what ``eldercare simulate --rate max`` does.

    python benchmarks/simulator_load.py --homes 10000 --minutes 10

Starts mosquitto on a free port, runs ``eldercare simulate --rate max|realistic`` in a subprocess
(no registry: nothing but the broker is listening) and prints its report line.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from eldercare.broker import LocalMosquitto


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=10000)
    parser.add_argument("--minutes", type=float, default=10.0, help="simulated minutes")
    parser.add_argument("--rate", choices=["max", "realistic"], default="max")
    args = parser.parse_args()
    with LocalMosquitto() as broker:
        command = [
            str(Path(sys.executable).with_name("eldercare")),
            "simulate",
            "--broker",
            broker.url,
            "--homes",
            str(args.homes),
            "--rate",
            args.rate,
            "--no-register",
            "--duration",
            str(args.minutes * 60),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        print(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()

"""Where the shared SisFall recordings are, and small helpers to turn them into telemetry."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from eldercare.models import Alert, AlertKind
from evaluation.falls.replay import downsample
from evaluation.falls.sisfall import SISFALL_RATE_HZ, read_trial
from scripts.convert_falls import write_sisfall


def shared_data() -> Path | None:
    """``../shared/data`` next to the repository, else ``$ELDERCARE_SHARED_DATA``."""
    sibling = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if sibling.is_dir():
        return sibling
    configured = os.environ.get("ELDERCARE_SHARED_DATA")
    return Path(configured) if configured and Path(configured).is_dir() else None


def sisfall_dir() -> Path:
    data = shared_data()
    if data is None or not (data / "sisfall-dev").is_dir():
        pytest.skip("SisFall data absent: neither ../shared/data nor $ELDERCARE_SHARED_DATA exist")
    return data / "sisfall-dev"


def recording(name: str, rate_hz: float = 50.0) -> np.ndarray:
    """One shared recording (e.g. ``SA01/F01_SA01_R01``) at ``rate_hz``, in g."""
    return downsample(read_trial(sisfall_dir() / f"{name}.txt.gz"), rate_hz)


def synthetic_recording(rng: np.random.Generator, fall: bool) -> np.ndarray:
    """12 s upright; at 4 s and 8 s a 60 ms knock of ~2.5 g; a fall: one knock, then lying."""
    n = int(12 * SISFALL_RATE_HZ)
    samples = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.01, (n, 3))
    lying = np.array([1.0, 0.0, 0.0])
    for at in (4.0, 8.0) if not fall else (4.0,):
        start = int(at * SISFALL_RATE_HZ)
        samples[start : start + 12, 0] += rng.uniform(2.0, 3.0)
    if fall:
        samples[int(4.0 * SISFALL_RATE_HZ) + 12 :] = lying + rng.normal(0, 0.01, (n - 812, 3))
    return samples


def synthetic_lab(root: Path, subjects: list[str], seed: int, inverted: bool = False) -> Path:
    """Four falls and four activities per subject; ``inverted``: a lab whose "falls" look
    like the other lab's activities and the other way round."""
    rng = np.random.default_rng(seed)
    for subject in subjects:
        for trial in range(1, 5):
            for code, lying in (("F01", not inverted), ("D01", inverted)):
                path = root / subject / f"{code}_{subject}_R{trial:02d}.txt.gz"
                write_sisfall(path, synthetic_recording(rng, lying))
    return root


async def first_fall_alert(client: aiomqtt.Client, timeout: float) -> Alert:
    """The first fall alert on the broker (``client`` subscribed to the alerts already)."""
    async with asyncio.timeout(timeout):
        async for message in client.messages:
            alert = Alert.model_validate_json(bytes(message.payload))  # type: ignore[arg-type]
            if alert.kind is AlertKind.FALL:
                return alert
    raise AssertionError("the alert stream ended")


#: HAPT's first rows of acc_exp01_user01.txt: x y z in g, one 50 Hz sample a row, no time.
HAPT_ROWS = (
    "0.9180555898766518 -0.1124999994242935 0.5097222514293852\n",
    "0.9111111304603812 -0.09305556168259389 0.5375000404706096\n",
    "0.8819444981597608 -0.0861111144222878 0.5138889270791476\n",
    "0.8819444981597608 -0.0708333369090569 0.5500000450176134\n",
    "0.8791666816982874 -0.0708333369090569 0.5611111459000181\n",
    "0.8888889056399477 -0.07638889506590202 0.5250000398359665\n",
)

"""The features see every device through the same 2 g ceiling (issue 15, clipped phones)."""

from __future__ import annotations

import numpy as np

from detector.falls.features import CEILING_G, FEATURE_NAMES, impact_features
from tests.falls_support import recording

#: Falls of three kinds and two hard activities, each with an impact far above 2 g.
HARD_IMPACTS = (
    "SA01/F01_SA01_R01",
    "SA03/F13_SA03_R01",
    "SA02/F10_SA02_R01",
    "SA02/D08_SA02_R01",
    "SA01/D19_SA01_R01",
)
#: Columns from the magnitude alone; the others come from vectors, which clipping bends.
#: A phone's accelerometer (MobiFall's Galaxy S3) saturates at ±2 g per axis.
PHONE_RANGE_G = 2.0
MAGNITUDE_ONLY = [i for i, name in enumerate(FEATURE_NAMES) if not name.endswith(("_deg", "_gps"))]


def _window(name: str) -> tuple[np.ndarray, int]:
    samples = recording(name, 50)
    impact = int(np.linalg.norm(samples, axis=1).argmax())
    start = max(impact - 125, 0)
    return samples[start : impact + 151], impact - start


def test_a_device_that_clips_each_axis_at_2g_gives_the_same_magnitude_features() -> None:
    rng = np.random.default_rng(3)
    for name in HARD_IMPACTS:
        window, impact = _window(name)
        assert np.linalg.norm(window[impact]) > PHONE_RANGE_G, name  # the ceiling matters here
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        turned = window @ (q * np.sign(np.diag(r))).T  # a phone in a pocket, any way round
        clipped = np.clip(turned, -PHONE_RANGE_G, PHONE_RANGE_G)
        want = impact_features(turned, impact, 50.0, 2.5)
        got = impact_features(clipped, impact, 50.0, 2.5)
        np.testing.assert_allclose(got[MAGNITUDE_ONLY], want[MAGNITUDE_ONLY], rtol=1e-5)
        assert want[FEATURE_NAMES.index("peak_g")] == CEILING_G
        assert want[FEATURE_NAMES.index("ceiling_s")] > 0.0

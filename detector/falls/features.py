"""What the classifier sees of a candidate impact: a handful of window-local numbers.

Two stages, as in the fall-detection literature (Bourke et al. 2007; Kangas et al. 2008):
the impact itself (how hard, after how much free fall, how abruptly) and its aftermath
(did the body's orientation change, is it still, does it stay down). Every feature is
computed from the signal magnitude or from angles between mean acceleration vectors, so
it does not matter how the pendant hangs. Nothing depends on where the window lies in a
recording or on how long the recording is: the window is the only input.
"""

from __future__ import annotations

import numpy as np

FEATURE_NAMES = (
    "peak_g",  # signal-magnitude (SVM) peak at the impact
    "dip_g",  # lowest SVM in the second before it: free fall
    "free_fall_gs",  # area of the dip below 1 g, i.e. the speed gained falling
    "jerk_gps",  # largest change of the acceleration vector around the impact
    "impact_energy_g",  # mean |SVM - 1 g| in the second around the impact
    "impact_width_s",  # time SVM spends above 1.6 g around the impact
    "pre_activity_g",  # SVM spread before the event: walking vs sitting
    "post_activity_g",  # SVM spread after it: stillness
    "post_mean_g",  # mean SVM after it (≈ 1 g when resting)
    "post_motion_gps",  # mean vector change rate after it: small movements
    "tilt_deg",  # angle between gravity before and after: posture change
    "settle_deg",  # angle between gravity early and late in the aftermath: still moving?
)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if not norms:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(float(a @ b) / norms, -1.0, 1.0))))


def _mean_vector(segment: np.ndarray) -> np.ndarray:
    return segment.mean(axis=0) if len(segment) else np.full(3, np.nan)


def _stat(segment: np.ndarray, how: str) -> float:
    if not len(segment):
        return float("nan")
    return float(getattr(np, how)(segment))


def impact_features(window: np.ndarray, impact: int, rate_hz: float, pre_s: float) -> np.ndarray:
    """The features of one candidate.

    ``window`` holds the working-rate samples (n, 3) around it; ``impact`` is the index of
    the SVM peak in it. Samples before the window (the stream had just started) are simply
    absent; such features become NaN, which the classifier treats as missing.
    """

    def n(seconds: float) -> int:
        return round(seconds * rate_hz)

    svm = np.linalg.norm(window, axis=1)
    steps = np.linalg.norm(np.diff(window, axis=0), axis=1) * rate_hz

    def span(a: float, b: float) -> slice:
        return slice(max(impact + n(a), 0), max(impact + n(b), 0))

    before = svm[span(-1.0, 0.0)]
    around = span(-0.5, 0.5)
    pre, post = span(-pre_s, -1.0), span(1.0, 10**6)
    aftermath = window[post]
    half = len(aftermath) // 2
    return np.array(
        [
            svm[impact],
            _stat(before, "min"),
            float(np.clip(1.0 - before, 0.0, None).sum() / rate_hz),
            _stat(steps[span(-0.5, 0.5)], "max"),
            _stat(np.abs(svm[around] - 1.0), "mean"),
            float((svm[span(-1.0, 1.0)] > 1.6).sum() / rate_hz),
            _stat(svm[pre], "std"),
            _stat(svm[post], "std"),
            _stat(svm[post], "mean"),
            _stat(steps[post], "mean"),
            _angle_deg(_mean_vector(window[pre]), _mean_vector(window[span(1.5, 10**6)])),
            _angle_deg(_mean_vector(aftermath[:half]), _mean_vector(aftermath[half:])),
        ]
    )

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

WINDOW_FEATURES = (
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
#: Features against the upright the stream remembered from the wearer's walking
#: (``FallStream``): NaN — unknown — when it has not seen them walk.
UPRIGHT_FEATURES = (
    "upright_pre_deg",  # posture before the impact against the remembered upright
    "upright_post_deg",  # posture after it against the remembered upright: lying ≈ 90°
    "turn_rate_dps",  # fastest attitude change around the impact (0.5 s means, 0.5 s apart)
)
#: Every feature the stream computes, in the order of its rows; a model uses a subset.
FEATURE_NAMES = WINDOW_FEATURES + UPRIGHT_FEATURES

#: The walking test (``is_walking``): the magnitude swings around 1 g by this much (g,
#: standard deviation), the attitude stays within ``WALK_STEADY_DEG`` of its mean, and
#: the swing repeats at a step period in ``WALK_STEP_S`` (autocorrelation at least
#: ``WALK_REPEAT``).
WALK_SWING_G = (0.08, 0.8)
WALK_MEAN_G = (0.8, 1.2)
WALK_STEADY_DEG = 20.0
WALK_STEP_S = (0.3, 0.8)
WALK_REPEAT = 0.3


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


def is_walking(segment: np.ndarray, rate_hz: float) -> bool:
    """Whether ``segment`` (n, 3 working-rate samples, ~2 s) looks like upright walking.

    A pendant cannot know which way is up, but its wearer walks only upright: while these
    seconds pass the test their mean acceleration is the upright direction. Steady in
    attitude (a quarter-by-quarter mean within 20° of the whole mean) rules out bending
    and lying down; a magnitude that swings at a step period rules out standing still,
    riding and the jolts of sitting down. Only magnitudes and angles: orientation-free.
    """
    n = len(segment)
    svm = np.sqrt(np.einsum("ij,ij->i", segment, segment))
    level = float(svm.sum()) / n
    swing = svm - level
    power = float(swing @ swing)
    if not (
        WALK_MEAN_G[0] <= level <= WALK_MEAN_G[1]
        and WALK_SWING_G[0] ** 2 <= power / n <= WALK_SWING_G[1] ** 2
    ):
        return False  # most seconds of a day end here, cheaply
    lags = slice(n - 1 + round(WALK_STEP_S[0] * rate_hz), n + round(WALK_STEP_S[1] * rate_hz))
    if np.correlate(swing, swing, "full")[lags].max() < WALK_REPEAT * power:
        return False
    mean = segment.sum(axis=0)
    quarters = segment[: n // 4 * 4].reshape(4, -1, 3).sum(axis=1)
    cosines = quarters @ mean / (np.linalg.norm(quarters, axis=1) * np.linalg.norm(mean))
    return bool(np.all(cosines >= np.cos(np.radians(WALK_STEADY_DEG))))


def upright_features(
    window: np.ndarray, impact: int, rate_hz: float, pre_s: float, upright: np.ndarray | None
) -> np.ndarray:
    """``UPRIGHT_FEATURES`` of one candidate (same window and impact as ``impact_features``).

    ``upright`` is the remembered direction of gravity while walking, or None: then the two
    posture angles are NaN ("unknown", which the model learnt from trials replayed without
    a walk before them), never a guess.
    """
    half = max(1, round(0.5 * rate_hz))  # 0.5 s of samples
    first, last = impact - round(1.0 * rate_hz), impact + round(1.0 * rate_hz)
    sums = np.concatenate([np.zeros((1, 3)), np.cumsum(window, axis=0, dtype=np.float64)])
    starts = np.arange(max(first, 0), min(last, len(window) - 2 * half) + 1)
    turn = float("nan")
    if len(starts):
        means = (sums[starts + half] - sums[starts]) / half
        later = (sums[starts + 2 * half] - sums[starts + half]) / half
        cosines = np.einsum("ij,ij->i", means, later) / (
            np.linalg.norm(means, axis=1) * np.linalg.norm(later, axis=1)
        )
        turn = float(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))).max() * rate_hz / half)
    if upright is None:
        return np.array([np.nan, np.nan, turn])

    def span(a: float, b: float) -> np.ndarray:
        return window[max(impact + round(a * rate_hz), 0) : max(impact + round(b * rate_hz), 0)]

    return np.array(
        [
            _angle_deg(_mean_vector(span(-pre_s, -1.0)), upright),
            _angle_deg(_mean_vector(span(1.5, 10**6)), upright),
            turn,
        ]
    )


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

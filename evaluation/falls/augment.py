"""Slower, softer copies of recordings for training: the falls of old age are gentler.

The development falls were performed by young adults; an old person who faints or slides
off a chair goes down more slowly and hits less hard. ``soften`` plays a recording ``k``
times slower as the same movement would look in that time: the direction of gravity (the
0.5 s mean of the signal) follows the same path over k times the time, and the wearer's own
acceleration — the rest — is divided by k², as the same path covered k times slower needs
(a = d²x/dt²). Rotating the device is not an augmentation here: every feature is
orientation-independent (tested). Lower rates are covered by training at 200, 50 and 20 Hz.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from evaluation.falls.replay import Replay, merged, replay
from evaluation.falls.sisfall import SISFALL_RATE_HZ, Trial

#: The window over which the mean acceleration is taken as gravity's direction.
GRAVITY_WINDOW_S = 0.5


def _moving_mean(samples: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean of each column, the edges padded with the edge values."""
    padded = np.pad(samples, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
    sums = np.cumsum(np.vstack([np.zeros((1, samples.shape[1])), padded]), axis=0)
    return (sums[width:] - sums[:-width]) / width


def _stretch(samples: np.ndarray, factor: float) -> np.ndarray:
    """``samples`` linearly interpolated onto ``factor`` times as many points."""
    count = max(1, round(len(samples) * factor))
    source = np.arange(len(samples), dtype=float)
    target = np.linspace(0.0, len(samples) - 1, count)
    return np.column_stack([np.interp(target, source, samples[:, a]) for a in range(3)])


def clip_axes(samples: np.ndarray, range_g: float) -> np.ndarray:
    """What an accelerometer with a ± ``range_g`` full scale reports: each axis saturates
    (a phone's: ± 2 g), so an impact's height above it is lost."""
    return np.clip(samples, -range_g, range_g)


def clipped_replays(
    trials: Sequence[Trial], rates_hz: Sequence[float], range_g: float
) -> list[Replay]:
    """Every trial as a ± ``range_g`` device records it, replayed at each rate for training."""
    return replay(trials, rates_hz, continuous=False, transform=partial(clip_axes, range_g=range_g))


def soften(samples: np.ndarray, rate_hz: float, k: float) -> np.ndarray:
    """The recording ``samples`` (g, shape (n, 3), at ``rate_hz``) played ``k`` times slower."""
    if k < 1.0:
        raise ValueError(f"k = {k}: only slower copies are gentler")
    samples = np.asarray(samples, dtype=float)
    width = max(1, round(GRAVITY_WINDOW_S * rate_hz))
    gravity = _moving_mean(samples, width)
    movement = samples - gravity
    softened = _stretch(gravity, k) + _stretch(movement, k) / (k * k)
    return softened.astype(np.float32)


def softened_replays(trials: Sequence[Trial], rates_hz: Sequence[float], k: float) -> list[Replay]:
    """Every trial softened by ``k``, replayed at each rate for training (no streams)."""
    return replay(
        trials, rates_hz, continuous=False, transform=partial(soften, rate_hz=SISFALL_RATE_HZ, k=k)
    )


def with_softened(
    trials: Sequence[Trial], plain: Sequence[Replay], ks: Sequence[float]
) -> list[Replay]:
    """The training replays ``plain`` (one per rate) plus the trials softened by each k."""
    rates = [r.rate_hz for r in plain]
    copies = [softened_replays(trials, rates, k) for k in ks]
    return [merged([r, *(c[i] for c in copies)]) for i, r in enumerate(plain)]


def at_gain(samples: np.ndarray, gain: float) -> np.ndarray:
    """What a sensor whose 1 g reads ``gain`` g reports for ``samples``: every axis scaled
    (SisFall's ADXL345 reads 0.86–1.14 g at rest, depending on the posture)."""
    return (np.asarray(samples) * gain).astype(np.float32)


def gained_replays(trials: Sequence[Trial], rates_hz: Sequence[float], gain: float) -> list[Replay]:
    """Every trial as a sensor of this gain reads it, replayed at each rate for training."""
    return replay(trials, rates_hz, continuous=False, transform=partial(at_gain, gain=gain))

"""Pendant accelerometer windows, in g, the way a neck-worn pendant feels them.

Shapes follow what fall datasets (SisFall, MobiFall) show: walking is a ~1–2 Hz vertical
oscillation of a few tenths of a g around gravity; sitting or lying down is a slow
rotation of the gravity vector with bumps well under 2 g; a fall is a short free-fall dip,
an impact spike of 2.5–6 g, then stillness with gravity pointing along a different axis
(lying). Every window is rotated by how this resident wears the pendant, so a detector
cannot rely on one axis being "up".
"""

from __future__ import annotations

import numpy as np

#: Signal noise of a MEMS accelerometer at rest, in g.
NOISE_G = 0.012
UPRIGHT = np.array([0.0, 0.0, 1.0])
LYING = np.array([1.0, 0.0, 0.05]) / np.linalg.norm([1.0, 0.0, 0.05])


def wearing_rotation(rng: np.random.Generator, tilt_deg: float = 25.0) -> np.ndarray:
    """A random but fixed orientation of the pendant on its cord: any turn about the
    vertical, and a tilt of up to ``tilt_deg``."""
    yaw = rng.uniform(0, 2 * np.pi)
    tilt = np.radians(rng.uniform(0, tilt_deg))
    cz, sz, cx, sx = np.cos(yaw), np.sin(yaw), np.cos(tilt), np.sin(tilt)
    about_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    about_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return about_z @ about_x


def _gravity_path(start: np.ndarray, end: np.ndarray, n: int, at: int, length: int) -> np.ndarray:
    """Gravity direction turning from ``start`` to ``end`` over ``length`` samples from ``at``."""
    share = np.clip((np.arange(n) - at) / max(1, length), 0.0, 1.0)
    share = 0.5 - 0.5 * np.cos(np.pi * share)  # smooth turn
    path = (1 - share)[:, None] * start + share[:, None] * end
    return path / np.linalg.norm(path, axis=1, keepdims=True)


def _bump(n: int, at: int, width: int, height: float) -> np.ndarray:
    index = np.arange(n)
    return height * np.exp(-0.5 * ((index - at) / max(1.0, width)) ** 2)


def walking(
    n: int, rate_hz: float, step_hz: float, step_g: float, rng: np.random.Generator
) -> np.ndarray:
    t = np.arange(n) / rate_hz
    phase = rng.uniform(0, 2 * np.pi)
    vertical = step_g * np.sin(2 * np.pi * step_hz * t + phase)
    sway = 0.4 * step_g * np.sin(np.pi * step_hz * t + phase)
    samples = np.tile(UPRIGHT, (n, 1))
    samples[:, 2] += vertical
    samples[:, 0] += sway
    samples[:, 1] += 0.3 * step_g * np.sin(2 * np.pi * step_hz * t + phase + 1.0)
    return samples


def posture_change(
    n: int, rate_hz: float, start: np.ndarray, end: np.ndarray, peak_g: float
) -> np.ndarray:
    """Sitting down, lying down, getting up: a turn of gravity and a soft landing bump."""
    at, length = n // 4, int(1.2 * rate_hz)
    samples = _gravity_path(start, end, n, at, length)
    landing = _bump(n, at + length, 0.08 * rate_hz, peak_g - 1.0)
    return samples * (1.0 + landing)[:, None]


def fall(
    n: int, rate_hz: float, impact_g: float, impact_at: int, rng: np.random.Generator
) -> np.ndarray:
    """Upright, ~0.4 s free fall, impact spike, a rebound, then still lying on the floor."""
    free_fall = int(0.4 * rate_hz)
    start = max(0, impact_at - free_fall)
    samples = _gravity_path(UPRIGHT, LYING, n, start, free_fall)
    magnitude = np.ones(n)
    magnitude[start:impact_at] = np.linspace(1.0, rng.uniform(0.15, 0.4), impact_at - start)
    magnitude += _bump(n, impact_at, 0.02 * rate_hz, impact_g - 1.0)
    magnitude += _bump(n, impact_at + int(0.15 * rate_hz), 0.03 * rate_hz, 0.4 * (impact_g - 1.0))
    return samples * magnitude[:, None]


def finish(
    samples: np.ndarray, rotation: np.ndarray, rng: np.random.Generator
) -> list[tuple[float, float, float]]:
    """Rotate into the device frame, add sensor noise, round to milli-g."""
    noisy = samples @ rotation.T + rng.normal(0.0, NOISE_G, samples.shape)
    return [tuple(row) for row in np.round(noisy, 3).tolist()]

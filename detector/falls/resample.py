"""Streaming resampling of accelerometer batches onto one working rate.

Devices send 20, 50 or 200 Hz; the features must mean the same thing at every rate, so
every stream is brought onto the detector's working grid first. Above the working rate
the samples are box-averaged over one working period (what a device's own low-pass
filter does before it lowers its output rate), then linearly interpolated onto the grid;
below it they are interpolated. State between batches is a handful of samples, so a
pendant costs the same whatever its batch size.
"""

from __future__ import annotations

import numpy as np

#: A batch that starts this much later than the previous one ended is a new stream:
#: interpolating across the gap would invent a smooth movement that never happened.
MAX_GAP_S = 2.0


class StreamResampler:
    """Turns (start time, rate, samples) batches into working-rate samples, in order."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.reset()

    def reset(self) -> None:
        self.origin: float | None = None  # stream time 0, in epoch seconds
        self.emitted = 0  # index (from the origin) of the next working sample
        self._input_rate: float | None = None
        self._seen_until = 0.0  # time (from origin) of the last input sample
        self._last_t: float | None = None  # time of the last (filtered) value interpolated from
        self._last_v = np.zeros(3)
        self._tail = np.empty((0, 3))  # raw samples the box filter still needs

    @property
    def nbytes(self) -> int:
        return self._tail.nbytes + self._last_v.nbytes

    def push(self, start: float, input_rate: float, samples: np.ndarray) -> np.ndarray:
        """New working-rate samples (shape (n, 3)); an empty array if none are due yet.

        ``start`` is the first sample's time in epoch seconds. Samples at or before the last
        one already seen (a duplicate or late batch) are dropped; a long gap or a change of
        rate starts a new stream (check ``origin``/``emitted`` to notice).
        """
        samples = np.asarray(samples, dtype=np.float64).reshape(-1, 3)
        period = 1.0 / input_rate
        if (
            self.origin is None
            or input_rate != self._input_rate
            or start - self.origin - self._seen_until > MAX_GAP_S + period
        ):
            self.reset()
            self.origin = start
            self._input_rate = input_rate
            self._seen_until = -period  # nothing seen yet
        times = (start - self.origin) + np.arange(len(samples)) * period
        fresh = times > self._seen_until + period / 2
        times, samples = times[fresh], samples[fresh]
        if not len(samples):
            return np.empty((0, 3))
        self._seen_until = float(times[-1])
        width = max(1, round(input_rate / self.rate_hz))
        if width > 1:
            padded = np.concatenate([self._tail, samples])
            cumulative = np.cumsum(np.concatenate([np.zeros((1, 3)), padded]), axis=0)
            lo = np.maximum(np.arange(len(self._tail), len(padded)) - width + 1, 0)
            hi = np.arange(len(self._tail), len(padded)) + 1
            smoothed = (cumulative[hi] - cumulative[lo]) / (hi - lo)[:, None]
            self._tail = padded[-(width - 1) :]
            # A causal box average lags by half its width; put it back where it belongs.
            times = times - (width - 1) * period / 2
            samples = smoothed
        if self._last_t is None:
            xp, fp = times, samples
            self.emitted = int(np.ceil(times[0] * self.rate_hz - 1e-9))
        else:
            xp = np.concatenate([[self._last_t], times])
            fp = np.concatenate([self._last_v[None, :], samples])
        last_index = int(np.floor(times[-1] * self.rate_hz + 1e-9))
        grid = np.arange(self.emitted, last_index + 1) / self.rate_hz
        out = np.column_stack([np.interp(grid, xp, fp[:, axis]) for axis in range(3)])
        self.emitted = max(self.emitted, last_index + 1)
        self._last_t, self._last_v = float(times[-1]), samples[-1].copy()
        return out.reshape(-1, 3)

"""The streaming fall detector: accelerometer batches in, scored candidate impacts out.

This is the code that runs on MQTT telemetry and the code that ``eldercare eval falls``
runs over recordings; they cannot drift apart. Per pendant it keeps a fixed-size window of
working-rate samples (a few kilobytes), finds impacts as SVM peaks that dominate the
second around them, and once the aftermath (``post_s``) has arrived computes the
features and asks the scorer. Nothing looks further ahead than that window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from detector.falls.features import impact_features
from detector.falls.resample import StreamResampler
from detector.falls.scoring import Scorer


@dataclass(frozen=True, slots=True)
class FallConfig:
    """The detector's geometry; a model is trained for one config and stores it."""

    rate_hz: float = 50.0
    candidate_g: float = 1.6  # an SVM peak below this is not an impact worth scoring
    peak_spacing_s: float = 1.0  # a candidate is the largest peak within ± this
    pre_s: float = 2.5  # history kept before the impact (posture before)
    post_s: float = 3.0  # aftermath waited for: the detection delay
    refractory_s: float = 10.0  # one fall raises one alarm, not one per bounce
    chunk_s: float = 1.0  # large batches are worked through in pieces this long

    def samples(self, seconds: float) -> int:
        return round(seconds * self.rate_hz)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored impact. Times are epoch seconds on the device's clock."""

    impact_at: float
    decided_at: float
    features: np.ndarray
    score: float
    alarm: bool
    #: Seconds of the aftermath the stream never saw and took as the pendant lying still
    #: (``FallStream.cut``); 0 for an impact decided on what the pendant sent.
    held_s: float = 0.0


class FallStream:
    """Per-pendant state: resampler, window, pending candidates, last alarm."""

    def __init__(self, scorer: Scorer, config: FallConfig | None = None) -> None:
        self.scorer = scorer
        self.config = config or FallConfig()
        c = self.config
        self._spacing = c.samples(c.peak_spacing_s)
        self._pre, self._post = c.samples(c.pre_s), c.samples(c.post_s)
        self._chunk = c.samples(c.chunk_s)
        self._capacity = self._pre + self._post + self._spacing + self._chunk + 2
        self.resampler = StreamResampler(c.rate_hz)
        self.window = np.zeros((self._capacity, 3), dtype=np.float32)
        self._restart()
        self.last_alarm_at = -np.inf

    def _restart(self) -> None:
        self._count = 0  # working samples appended since the stream (re)started
        self._searched = 0  # first sample index not yet examined for a peak
        self._pending: list[int] = []
        self._origin = 0.0

    @property
    def nbytes(self) -> int:
        """The numeric state this pendant holds (the window dominates)."""
        return self.window.nbytes + self.resampler.nbytes + 8 * (len(self._pending) + 12)

    def push(self, start: float, rate_hz: float, samples: np.ndarray) -> list[Candidate]:
        """Feed one batch (``start`` = first sample, epoch seconds); get candidates decided."""
        origin, emitted = self.resampler.origin, self.resampler.emitted
        fresh = self.resampler.push(start, rate_hz, samples)
        decided: list[Candidate] = []
        if self.resampler.origin != origin or self.resampler.emitted - len(fresh) != emitted:
            decided.extend(self._decide_cut())
            self._restart()
            first = self.resampler.emitted - len(fresh)
            self._origin = self.resampler.origin + first / self.config.rate_hz
        for begin in range(0, len(fresh), self._chunk):
            decided.extend(self._append(fresh[begin : begin + self._chunk]))
        return decided

    @property
    def awaiting_aftermath(self) -> bool:
        """An impact may be waiting for its aftermath: one was found, or the last second
        (not yet searched, its right side incomplete) holds a sample strong enough to be one."""
        if self._pending:
            return True
        unsearched = min(self._count - self._searched, self._capacity)
        if unsearched <= 0:
            return False
        tail = np.linalg.norm(self.window[-unsearched:], axis=1)
        return bool(tail.max() >= self.config.candidate_g)

    def cut(self) -> list[Candidate]:
        """The pendant fell silent: decide what is pending and start afresh at its next batch.

        The next batch then begins a new stream even if it would have fitted on (late data),
        since the window has been filled out with what ``_decide_cut`` assumed.
        """
        decided = self._decide_cut()
        self.resampler.reset()
        self._restart()
        return decided

    def _decide_cut(self) -> list[Candidate]:
        """Impacts whose aftermath the stream will never see, decided with the pendant taken
        as lying still from its last sample on.

        Why: a pendant's link drops right after an impact more often than at any other time
        (a body lying on it, out of range on the floor, a battery knocked loose), and an
        impact whose aftermath never came used to be dropped: the fall was lost. Assuming
        stillness is the worst case, and the rule's confirmation window then checks it: any
        movement in the home, the pendant's own included once it is back, makes the alert a
        "check in" rather than a call-out.
        """
        if not self.awaiting_aftermath:
            return []
        seen = self._count
        last_seen = self._time(seen - 1)
        held = np.repeat(self._lying_still(), self._chunk, axis=0)
        decided: list[Candidate] = []
        while self._pending or self._searched < seen:  # held samples (1 g) are no impact
            decided.extend(self._append(held))
        post_s = self.config.post_s
        return [replace(c, held_s=max(0.0, c.impact_at + post_s - last_seen)) for c in decided]

    def _lying_still(self) -> np.ndarray:
        """Gravity alone (1 g) along the last half second's mean: a body at rest in the
        attitude it was last seen in. Not the last sample: it may be the impact's spike,
        and its direction is noise; held, it read as a change of posture, and a quarter
        of everyday impacts cut a second after became suspicions (docs/falls.md)."""
        recent = self.window[-min(self._count, self.config.samples(0.5)) :].mean(axis=0)
        return recent[None, :] / max(float(np.linalg.norm(recent)), 1e-6)

    def _time(self, index: int) -> float:
        return self._origin + index / self.config.rate_hz

    def _append(self, chunk: np.ndarray) -> list[Candidate]:
        n = len(chunk)
        self.window[:-n] = self.window[n:]
        self.window[-n:] = chunk
        self._count += n
        self._find_peaks()
        ready = [p for p in self._pending if p + self._post < self._count]
        if not ready:
            return []
        self._pending = [p for p in self._pending if p + self._post >= self._count]
        return self._decide(ready)

    def _find_peaks(self) -> None:
        """Mark samples whose SVM is at least ``candidate_g`` and dominates ± spacing."""
        stop = self._count - self._spacing  # the last sample whose right side is complete
        if stop <= self._searched:
            return
        offset = self._count - self._capacity  # index of window[0]
        lo = max(self._searched - self._spacing, offset, 0)
        svm = np.linalg.norm(self.window[lo - offset :], axis=1)
        padded = np.concatenate([np.full(self._spacing, -np.inf), svm])
        spans = np.lib.stride_tricks.sliding_window_view(padded, 2 * self._spacing + 1)
        # spans[k] covers svm[k - spacing .. k + spacing]
        first = self._searched - lo
        centre = svm[first : stop - lo]
        left = spans[first : stop - lo, : self._spacing].max(axis=1)
        right = spans[first : stop - lo, self._spacing + 1 :].max(axis=1)
        hits = np.flatnonzero(
            (centre >= self.config.candidate_g) & (centre > left) & (centre >= right)
        )
        self._pending.extend(int(h) + self._searched for h in hits)
        self._searched = stop

    def _decide(self, ready: list[int]) -> list[Candidate]:
        offset = self._count - self._capacity
        rows = []
        for peak in ready:
            start = max(peak - self._pre, offset, 0)
            segment = self.window[start - offset : peak + self._post + 1 - offset]
            rows.append(
                impact_features(segment, peak - start, self.config.rate_hz, self.config.pre_s)
            )
        features = np.vstack(rows)
        scores = self.scorer.scores(features)
        decided_at = self._time(self._count - 1)
        impacts = [self._time(peak) for peak in ready]
        flags = alarm_flags(
            impacts, scores, self.scorer.threshold, self.config.refractory_s, self.last_alarm_at
        )
        for impact_at, flag in zip(impacts, flags, strict=True):
            if flag:
                self.last_alarm_at = impact_at
        return [
            Candidate(impact_at, decided_at, row, float(score), flag)
            for impact_at, row, score, flag in zip(impacts, features, scores, flags, strict=True)
        ]


def alarm_flags(
    impacts: list[float],
    scores: np.ndarray,
    threshold: float,
    refractory_s: float,
    last_alarm_at: float = -np.inf,
) -> list[bool]:
    """Which candidates alarm: score over threshold and no alarm in the refractory time.

    A loop over candidates (a few per minute at most), not over samples.
    """
    flags = []
    for impact_at, score in zip(impacts, scores, strict=True):
        flag = bool(score >= threshold) and impact_at - last_alarm_at >= refractory_s
        if flag:
            last_alarm_at = impact_at
        flags.append(flag)
    return flags

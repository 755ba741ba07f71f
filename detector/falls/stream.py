"""The streaming fall detector: accelerometer batches in, scored candidate impacts out.

This is the code that runs on MQTT telemetry and the code that ``eldercare eval falls``
runs over recordings; they cannot drift apart. Per pendant it keeps a fixed-size window of
working-rate samples (a few kilobytes), finds impacts as SVM peaks that dominate the
second around them, and once the aftermath (``post_s``) has arrived computes the
features and asks the scorer. Nothing looks further ahead than that window.

For a scorer that reads them (``remember_upright``; the lab's replays always do) it also
remembers which way is up: every whole second it asks whether the last two seconds were
walking, and if so keeps their mean acceleration (a few vectors, kept across gaps in the
stream). A candidate's posture is then measured against that upright too; a stream that
has not seen its wearer walk says "unknown" (NaN), never a guess.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np

from detector.falls.features import (
    UPRIGHT_FEATURES,
    impact_features,
    is_walking,
    upright_features,
)
from detector.falls.resample import StreamResampler
from detector.falls.scoring import Scorer, uses_upright


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
    walk_s: float = 2.0  # the walking test looks at this much, every whole second
    upright_lead_s: float = 0.5  # walking counts as upright only if it ended this long before
    upright_ttl_s: float = 1800.0  # an upright older than this is forgotten (cord turned?)

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

    def __init__(
        self,
        scorer: Scorer,
        config: FallConfig | None = None,
        remember_upright: bool | None = None,
    ) -> None:
        """``remember_upright``: learn the upright from walking (None: if the scorer uses it;
        the lab always does, so its candidates can be scored by any model)."""
        self.scorer = scorer
        self.config = config or FallConfig()
        self.remember_upright = (
            uses_upright(scorer) if remember_upright is None else remember_upright
        )
        c = self.config
        self._spacing = c.samples(c.peak_spacing_s)
        self._pre, self._post = c.samples(c.pre_s), c.samples(c.post_s)
        self._chunk = c.samples(c.chunk_s)
        self._capacity = self._pre + self._post + self._spacing + self._chunk + 2
        self.resampler = StreamResampler(c.rate_hz)
        self.window = np.zeros((self._capacity, 3), dtype=np.float32)
        self._walk = c.samples(c.walk_s)
        self._second = c.samples(1.0)
        # Walking seconds (end time, mean vector), newest last; enough to cover every candidate
        # still pending (impact ≥ now - post - chunk) plus the last one before them.
        keep = int(np.ceil(c.post_s + c.chunk_s + c.upright_lead_s)) + 2
        self._walked_at = np.full(keep, -np.inf)
        self._walked = np.zeros((keep, 3), dtype=np.float32)
        self._unused = np.full(len(UPRIGHT_FEATURES), np.nan)  # a scorer that ignores them
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
        return (
            self.window.nbytes
            + self._walked.nbytes
            + self._walked_at.nbytes
            + self.resampler.nbytes
            + 8 * (len(self._pending) + 12)
        )

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

    def what_a_cut_would_decide(self) -> list[Candidate]:
        """``cut``'s decision if the stream ended now, this stream left as it is.

        Why: the pendant's samples are not checkpointed (a save per batch at many homes is
        too dear), so a detector *killed* while an impact waits for its aftermath would lose
        it. The rule keeps this answer, saved only when it changes, and a restarted detector
        raises what it said (``FallRule.restore``)."""
        twin = copy.copy(self)
        twin.window = self.window.copy()
        twin._pending = list(self._pending)
        return twin._decide_cut()

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
            decided.extend(self._append(held, observed=False))
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

    def _append(self, chunk: np.ndarray, observed: bool = True) -> list[Candidate]:
        """``observed``: samples the pendant sent; the upright is learnt from those alone,
        never from the stillness a cut assumes."""
        n = len(chunk)
        self.window[:-n] = self.window[n:]
        self.window[-n:] = chunk
        self._count += n
        if self.remember_upright and observed:
            self._remember_walking(n)
        self._find_peaks()
        ready = [p for p in self._pending if p + self._post < self._count]
        if not ready:
            return []
        self._pending = [p for p in self._pending if p + self._post >= self._count]
        return self._decide(ready)

    def _remember_walking(self, n: int) -> None:
        """At each whole second of the stream, keep the last ``walk_s`` if they were walking."""
        boundary = self._count // self._second * self._second  # chunks are at most a second
        if boundary <= self._count - n or boundary < self._walk:
            return
        end = self._capacity - (self._count - boundary)
        segment = self.window[end - self._walk : end]
        if is_walking(segment, self.config.rate_hz):
            self._walked_at[:-1] = self._walked_at[1:]
            self._walked[:-1] = self._walked[1:]
            self._walked_at[-1] = self._time(boundary - 1)
            self._walked[-1] = segment.mean(axis=0)

    def upright_before(self, impact_at: float) -> np.ndarray | None:
        """The remembered upright for an impact: walking that ended before it, not too long ago.

        Only walking that ended ``upright_lead_s`` before the impact counts: the seconds of
        the descent itself are not upright, and nothing after the impact may be used.
        """
        c = self.config
        usable = (self._walked_at <= impact_at - c.upright_lead_s) & (
            self._walked_at >= impact_at - c.upright_ttl_s
        )
        if not usable.any():
            return None
        return self._walked[np.flatnonzero(usable)[-1]].astype(np.float64)

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
            args = (segment, peak - start, self.config.rate_hz, self.config.pre_s)
            extra = (
                upright_features(*args, self.upright_before(self._time(peak)))
                if self.remember_upright
                else self._unused
            )
            rows.append(np.concatenate([impact_features(*args), extra]))
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

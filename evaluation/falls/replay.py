"""Replaying recordings through the streaming detector, exactly as telemetry would arrive.

Evaluation and training both go through here: each recording is cut into one-second
batches and pushed through a fresh ``FallStream``, so the detector sees nothing a pendant
on MQTT would not. Candidate generation does not depend on the scorer, which is what lets
cross-validation score the same candidates with each fold's model (``rescore``) and get
the alarms the streaming detector would have raised with that model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from detector.falls.scoring import Scorer, ThresholdRule
from detector.falls.stream import Candidate, FallConfig, FallStream, alarm_flags
from eldercare.models import Metric, Telemetry
from evaluation.falls.sisfall import SISFALL_RATE_HZ, Trial, find_trials, read_trial

BATCH_S = 1.0
#: What a trial is replayed after, so the stream has seen its wearer walk upright.
PRELUDE_CODE, PRELUDE_S = "D01", 10.0


def telemetry_batches(
    samples: np.ndarray,
    rate_hz: float,
    start: datetime,
    home: str = "h-0001",
    device: str = "pendant",
    first_seq: int = 1,
) -> list[Telemetry]:
    """The recording as a pendant would send it: one-second accel batches, for what
    replays the service's own rule (``FallRule.on_telemetry``) rather than the stream."""
    step = round(rate_hz)
    return [
        Telemetry(
            home=home,
            device=device,
            seq=first_seq + index,
            ts=start + timedelta(seconds=index),
            metric=Metric.ACCEL,
            rate_hz=rate_hz,
            samples=[tuple(row) for row in samples[begin : begin + step].tolist()],
        )
        for index, begin in enumerate(range(0, len(samples), step))
    ]


def downsample(
    samples: np.ndarray, rate_hz: float, source_hz: float = SISFALL_RATE_HZ
) -> np.ndarray:
    """What a device sampling at ``rate_hz`` would have recorded: block means.

    An accelerometer's output-rate filter averages over its sampling period; plain
    decimation would alias impacts in a way no real device does.
    """
    factor = round(source_hz / rate_hz)
    if factor < 1 or abs(factor * rate_hz - source_hz) > 1e-6:
        raise ValueError(f"{rate_hz:g} Hz does not divide the recorded {source_hz:g} Hz")
    if factor == 1:
        return samples
    usable = len(samples) // factor * factor
    return samples[:usable].reshape(-1, factor, 3).mean(axis=1)


def stream_recording(
    samples: np.ndarray, rate_hz: float, stream: FallStream, start: float = 0.0
) -> list[Candidate]:
    """Push a recording through ``stream`` in one-second batches; all decided candidates."""
    step = max(1, round(rate_hz * BATCH_S))
    decided: list[Candidate] = []
    for begin in range(0, len(samples), step):
        decided.extend(stream.push(start + begin / rate_hz, rate_hz, samples[begin : begin + step]))
    return decided


def stream_after(
    prelude: np.ndarray, samples: np.ndarray, rate_hz: float, stream: FallStream
) -> list[Candidate]:
    """``samples`` pushed right after ``prelude`` (same rate, no gap): candidates in ``samples``.

    The prelude ends at time 0 and the recording starts there, so times are the
    recording's own; candidates whose impact lies in the prelude are dropped.
    """
    stream_recording(prelude, rate_hz, stream, start=-len(prelude) / rate_hz)
    return [c for c in stream_recording(samples, rate_hz, stream) if c.impact_at >= 0.0]


def walking_preludes(
    trials: Iterable[Trial], code: str = PRELUDE_CODE, seconds: float = PRELUDE_S
) -> dict[str, np.ndarray]:
    """Per subject, the first ``seconds`` of their first ``code`` (walking) recording, 200 Hz.

    SisFall trials start standing, sitting or lying as the lab's protocol says; in life a
    pendant has seen its wearer walk before they sit down, lie down or fall. Subjects
    without such a recording get no prelude.
    """
    preludes: dict[str, np.ndarray] = {}
    for trial in trials:
        if trial.code == code and trial.subject not in preludes:
            preludes[trial.subject] = read_trial(trial.path)[: round(seconds * SISFALL_RATE_HZ)]
    return preludes


@dataclass
class TrialRun:
    """One recording replayed: its candidates and its true impact time (if a fall)."""

    trial: Trial
    duration_s: float
    impact_at: float  # SVM maximum of the original 200 Hz recording: SisFall has no annotation
    candidates: list[Candidate]


@dataclass
class SubjectStream:
    """All activity recordings of one subject, back to back as one continuous stream."""

    subject: str
    group: str
    duration_s: float
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class Replay:
    rate_hz: float
    trials: list[TrialRun]
    streams: list[SubjectStream]
    prelude: bool = False  # every trial played after its subject's walking prelude


def replay(
    data_dir: Path | Sequence[Trial],
    rates_hz: Sequence[float],
    scorer: Scorer | None = None,
    config: FallConfig | None = None,
    continuous: bool = True,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    preludes: Mapping[str, np.ndarray] | None = None,
) -> list[Replay]:
    """Run the detector over every trial at each rate (each file is read once).

    With ``continuous``, each subject's activity recordings are also played back to back.
    ``transform`` changes each recording (200 Hz samples in, 200 Hz out) before it is
    played: training on augmented copies (``evaluation.falls.augment``). With ``preludes``
    (``walking_preludes``) every trial of a subject who has one is also played after it:
    one more replay per rate, after the plain ones, with ``prelude`` set and no streams.
    """
    trials = find_trials(data_dir) if isinstance(data_dir, Path) else list(data_dir)
    scorer = scorer or ThresholdRule()
    config = config or FallConfig()

    def fresh() -> FallStream:
        # the upright is always learnt, so any model can rescore these candidates
        return FallStream(scorer, config, remember_upright=True)

    runs: dict[float, list[TrialRun]] = {rate: [] for rate in rates_hz}
    after: dict[float, list[TrialRun]] = {rate: [] for rate in rates_hz}
    adl: dict[tuple[float, str], list[np.ndarray]] = {}
    for trial in trials:
        raw = read_trial(trial.path)
        if transform is not None:
            raw = transform(raw)
        duration = len(raw) / SISFALL_RATE_HZ
        impact_at = float(np.linalg.norm(raw, axis=1).argmax()) / SISFALL_RATE_HZ
        for rate in rates_hz:
            samples = downsample(raw, rate)
            candidates = stream_recording(samples, rate, fresh())
            runs[rate].append(TrialRun(trial, duration, impact_at, candidates))
            if preludes and trial.subject in preludes:
                walk = downsample(preludes[trial.subject], rate)
                candidates = stream_after(walk, samples, rate, fresh())
                after[rate].append(TrialRun(trial, duration, impact_at, candidates))
            if continuous and not trial.is_fall:
                adl.setdefault((rate, trial.subject), []).append(samples)
    groups = {trial.subject: trial.group for trial in trials}
    streams: dict[float, list[SubjectStream]] = {rate: [] for rate in rates_hz}
    for (rate, subject), parts in adl.items():
        samples = np.concatenate(parts)
        candidates = stream_recording(samples, rate, fresh())
        streams[rate].append(
            SubjectStream(subject, groups[subject], len(samples) / rate, candidates)
        )
    plain = [Replay(rate, runs[rate], streams[rate]) for rate in rates_hz]
    if not preludes:
        return plain
    return plain + [Replay(rate, after[rate], [], prelude=True) for rate in rates_hz]


def merged(replays: Sequence[Replay]) -> Replay:
    """Replays at one rate (of several sets, or of recordings and their softened copies) as one."""
    return Replay(
        replays[0].rate_hz,
        [run for r in replays for run in r.trials],
        [stream for r in replays for stream in r.streams],
        replays[0].prelude,
    )


def rescore(
    candidates: Iterable[Candidate], scorer: Scorer, refractory_s: float
) -> list[Candidate]:
    """The same candidates as another scorer would have alarmed on them."""
    candidates = list(candidates)
    if not candidates:
        return []
    scores = scorer.scores(np.vstack([c.features for c in candidates]))
    flags = alarm_flags([c.impact_at for c in candidates], scores, scorer.threshold, refractory_s)
    return [
        replace(c, score=float(s), alarm=flag)
        for c, s, flag in zip(candidates, scores, flags, strict=True)
    ]

"""The streaming detector: rate- and batch-independent, bounded, no look-ahead, no position."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.falls_cut_streams import cuts
from detector.falls.features import FEATURE_NAMES, WINDOW_FEATURES
from detector.falls.resample import StreamResampler
from detector.falls.scoring import ThresholdRule, bundled_model
from detector.falls.stream import FallConfig, FallStream
from evaluation.falls.replay import downsample, rescore, stream_recording
from tests.falls_support import recording

FALL = "SA01/F01_SA01_R01"


def _motion(seconds: float, rate: float) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return np.column_stack([np.sin(2 * t), np.cos(3 * t), 1 + 0.2 * np.sin(t)])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 90), min_size=1, max_size=40))
def test_resampling_does_not_depend_on_batch_boundaries(cuts: list[int]) -> None:
    signal = _motion(12, 200)
    whole = StreamResampler(50).push(1000.0, 200, signal)
    resampler, parts, begin = StreamResampler(50), [], 0
    for cut in cuts:
        parts.append(resampler.push(1000.0 + begin / 200, 200, signal[begin : begin + cut]))
        begin += cut
    parts.append(resampler.push(1000.0 + begin / 200, 200, signal[begin:]))
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-9)


@pytest.mark.parametrize("rate", [20.0, 25.0, 50.0, 100.0, 200.0])
def test_every_rate_lands_on_the_same_working_signal(rate: float) -> None:
    signal = _motion(10, 200)
    out = StreamResampler(50).push(0.0, rate, downsample(signal, rate))
    reference = StreamResampler(50).push(0.0, 200, signal)
    n = min(len(out), len(reference)) - 5
    assert n > 450
    # A 20 Hz block mean stands for its block's middle, 22 ms after its stamp: ≤ 0.07 g here.
    assert np.abs(out[5:n] - reference[5:n]).max() < 0.08


def test_duplicate_batches_are_dropped_and_gaps_restart_the_stream() -> None:
    resampler = StreamResampler(50)
    signal = _motion(2, 50)
    assert len(resampler.push(0.0, 50, signal)) == 100
    assert len(resampler.push(0.0, 50, signal)) == 0  # the same batch again (QoS 1 redelivery)
    assert len(resampler.push(10.0, 50, signal)) == 100  # after a gap: a new stream
    assert resampler.origin == 10.0


def test_a_real_fall_is_found_soon_after_its_impact_with_bounded_state() -> None:
    samples = recording(FALL, 200)
    stream = FallStream(ThresholdRule())
    decided = stream_recording(samples, 200, stream, start=5000.0)
    impact = 5000.0 + float(np.linalg.norm(samples, axis=1).argmax()) / 200
    hardest = max(decided, key=lambda c: c.features[0])
    # An impact is a burst of spikes; the box filter may favour a neighbour of the raw maximum.
    assert abs(hardest.impact_at - impact) < 0.3
    # Decided once the aftermath is in, not later: post_s plus at most one batch.
    assert 3.0 <= hardest.decided_at - hardest.impact_at <= 3.0 + 1.0 + 0.05
    assert hardest.alarm
    size = stream.nbytes
    stream_recording(np.tile(samples, (4, 1)), 200, stream, start=6000.0)
    assert stream.nbytes == size < 8192


@pytest.mark.parametrize("batch_rate", [0.3, 2.7])
def test_decisions_do_not_depend_on_how_batches_are_cut(batch_rate: float) -> None:
    samples = recording(FALL, 50)
    reference = stream_recording(samples, 50, FallStream(ThresholdRule()))
    stream, decided, step = FallStream(ThresholdRule()), [], max(1, round(50 * batch_rate))
    for begin in range(0, len(samples), step):
        decided.extend(stream.push(begin / 50, 50, samples[begin : begin + step]))
    assert [c.impact_at for c in decided] == pytest.approx([c.impact_at for c in reference])
    np.testing.assert_allclose(
        np.vstack([c.features for c in decided]), np.vstack([c.features for c in reference])
    )


def test_features_do_not_depend_on_where_in_a_recording_the_fall_lies() -> None:
    fall = recording(FALL, 50)
    walking = recording("SA01/D01_SA01_R01", 50)[:1500]
    alone = stream_recording(fall, 50, FallStream(ThresholdRule(), remember_upright=True))
    later = stream_recording(
        np.concatenate([walking, fall]), 50, FallStream(ThresholdRule(), remember_upright=True)
    )
    hardest = max(alone, key=lambda c: c.features[0])
    match = [c for c in later if abs(c.impact_at - 30.0 - hardest.impact_at) < 1e-6]
    assert len(match) == 1
    # Only what lies before the window may differ; the window itself is the whole input,
    # apart from the upright the stream remembered from the walk (tests/test_falls_upright.py).
    window = [FEATURE_NAMES.index(name) for name in (*WINDOW_FEATURES, "turn_rate_dps")]
    np.testing.assert_allclose(match[0].features[window], hardest.features[window], rtol=1e-5)


def test_streaming_with_a_model_equals_rescoring_its_candidates() -> None:
    """Cross-validation scores collected candidates; that must be what the stream does."""
    model = bundled_model()
    assert model is not None
    config = FallConfig(**model.config)
    samples = np.concatenate([recording("SA02/D18_SA02_R01", 50), recording(FALL, 50)])
    live = stream_recording(samples, 50, FallStream(model, config))
    collected = stream_recording(samples, 50, FallStream(ThresholdRule(), config))
    again = rescore(collected, model, config.refractory_s)
    assert [(c.impact_at, c.alarm) for c in live] == [(c.impact_at, c.alarm) for c in again]
    assert [c.score for c in live] == pytest.approx([c.score for c in again])
    assert any(c.alarm for c in live)


def _rotations(count: int) -> list[np.ndarray]:
    """Random proper rotations (det +1): a pendant hanging any way round."""
    rng, out = np.random.default_rng(7), []
    while len(out) < count:
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        q *= np.sign(np.diag(r))
        if np.linalg.det(q) > 0:
            out.append(q.astype(np.float32))
    return out


#: A slip while walking, a slow fall from a chair (fainting), a fall while sitting down;
#: a stumble and lying down quickly on a bed that must not alarm.
ROTATED_FALLS = ("SA01/F01_SA01_R01", "SA03/F13_SA03_R01", "SA02/F10_SA02_R01")
ROTATED_ADL = ("SA02/D18_SA02_R01", "SA04/D13_SA04_R01")


@pytest.mark.parametrize("rate", [20.0, 25.0, 50.0, 100.0, 200.0])
def test_rotated_pendants_at_every_device_rate_decide_alike(rate: float) -> None:
    """The issue's device independence: any orientation, 20/25/50/100/200 Hz."""
    model = bundled_model()
    assert model is not None
    config = FallConfig(**model.config)
    for name in ROTATED_FALLS + ROTATED_ADL:
        raw = recording(name, 200)
        upright = stream_recording(downsample(raw, rate), rate, FallStream(model, config))
        assert any(c.alarm for c in upright) == (name in ROTATED_FALLS), (name, rate)
        for rotation in _rotations(3):
            turned = downsample(raw @ rotation.T, rate)
            decided = stream_recording(turned, rate, FallStream(model, config))
            assert [c.impact_at for c in decided] == pytest.approx([c.impact_at for c in upright])
            assert [c.alarm for c in decided] == [c.alarm for c in upright], (name, rate)
            if decided:
                got = np.vstack([c.features for c in decided])
                want = np.vstack([c.features for c in upright])
                # Angles near 0° come from arccos of float32 means: ± a few hundredths of a degree.
                tolerance = np.where(np.char.endswith(FEATURE_NAMES, "_deg"), 0.1, 1e-3)
                close = np.abs(got - want) <= tolerance + 1e-3 * np.abs(want)
                assert np.all(close | (np.isnan(got) & np.isnan(want))), name


def test_a_cut_stream_decides_its_pending_impact_on_what_it_saw() -> None:
    samples = recording(FALL, 50)
    impact = int(np.linalg.norm(samples, axis=1).argmax())
    stream = FallStream(ThresholdRule())
    seen = stream_recording(samples[: impact + 25], 50, stream)  # 0.5 s of aftermath, then nothing
    assert stream.awaiting_aftermath and not any(c.impact_at >= impact / 50 - 1 for c in seen)
    [cut] = [c for c in stream.cut() if abs(c.impact_at - impact / 50) < 0.3]
    assert cut.alarm and cut.held_s == pytest.approx(2.5, abs=0.05)
    assert not stream.awaiting_aftermath and stream.cut() == []
    # The next batch starts a stream of its own, even one that would have fitted on.
    assert stream.push((impact + 25) / 50, 50, samples[impact + 25 : impact + 75]) == []
    assert stream.resampler.origin == (impact + 25) / 50


@pytest.mark.parametrize("name", ["SA04/D03_SA04_R01", "SA04/D04_SA04_R01"])
def test_everyday_impacts_cut_off_raise_no_alarm(name: str) -> None:
    """A link that drops a second after a jogging step must not read as a fall: the still
    pendant assumed after a cut keeps the attitude last seen, not one noisy sample's."""
    model = bundled_model()
    assert model is not None
    config = FallConfig(**model.config)
    samples = recording(name, 50)
    impacts = [c.impact_at for c in stream_recording(samples, 50, FallStream(model, config))]
    assert len(impacts) > 40
    decisions = cuts(samples, 50, impacts, 1.0, FallStream(model, config))
    assert sum(c.alarm for _, decided in decisions for c in decided) == 0

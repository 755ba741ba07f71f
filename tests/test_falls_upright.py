"""The remembered upright: learnt from walking only, never from the future, kept across gaps."""

from __future__ import annotations

import numpy as np

from detector.falls.features import FEATURE_NAMES, UPRIGHT_FEATURES, is_walking
from detector.falls.scoring import ThresholdRule, UprightRouted, bundled_model
from detector.falls.stream import Candidate, FallConfig, FallStream
from evaluation.falls.replay import replay, stream_after, stream_recording, walking_preludes
from evaluation.falls.sisfall import find_trials
from tests.falls_support import recording, sisfall_dir

WALK = "SA01/D01_SA01_R01"
CHAIR_FALL = "SA03/F13_SA03_R01"  # fainting while sitting: starts seated, no walking in it
PRE, POST, TURN = (FEATURE_NAMES.index(name) for name in UPRIGHT_FEATURES)


def _lab() -> FallStream:
    return FallStream(ThresholdRule(), remember_upright=True)


def _seconds(samples: np.ndarray) -> list[bool]:
    return [is_walking(samples[end - 100 : end], 50.0) for end in range(100, len(samples), 50)]


def test_walking_is_told_from_lying_sitting_and_falls_from_a_chair() -> None:
    assert np.mean(_seconds(recording(WALK))) > 0.8
    for name in ("SA01/D14_SA01_R01", "SA02/D10_SA02_R01", CHAIR_FALL, "SE02/D07_SE02_R01"):
        assert not any(_seconds(recording(name))), name


def _hardest(decided: list[Candidate]) -> Candidate:
    return max(decided, key=lambda c: c.features[0])


def test_the_upright_is_unknown_without_walking_and_known_after_it() -> None:
    fall, walk = recording(CHAIR_FALL), recording(WALK)[:500]
    alone = _hardest(stream_recording(fall, 50, _lab()))
    assert np.isnan(alone.features[[PRE, POST]]).all() and alone.features[TURN] > 0
    after = _hardest(stream_after(walk, fall, 50, _lab()))
    # Seated before (the trunk leans back a little), lying after: far from the walking upright.
    assert after.features[PRE] < 45 and after.features[POST] > 60
    # The window features and the turn rate do not depend on the upright.
    np.testing.assert_allclose(
        np.delete(after.features, [PRE, POST]), np.delete(alone.features, [PRE, POST]), rtol=1e-5
    )


def test_walking_after_the_impact_or_just_before_it_is_not_used() -> None:
    """No look-ahead: the upright an impact sees ended ≥ ``upright_lead_s`` before it."""
    config = FallConfig()
    stream = FallStream(ThresholdRule(), config, remember_upright=True)
    stream_recording(recording(WALK)[:500], 50, stream, start=100.0)  # walks 100–110 s
    last = stream._walked_at[-1]
    assert 109.0 <= last <= 110.0
    assert stream.upright_before(last + config.upright_lead_s) is not None
    just_before = stream.upright_before(last + config.upright_lead_s - 0.02)
    np.testing.assert_array_equal(just_before, stream._walked[-2])  # the second before
    assert stream.upright_before(100.0) is None  # nothing had been walked yet
    assert stream.upright_before(last + config.upright_ttl_s + 1.0) is None  # forgotten


def test_the_upright_survives_a_gap_and_a_rotation_keeps_every_angle() -> None:
    fall, walk = recording(CHAIR_FALL), recording(WALK)[:500]
    reference = _hardest(stream_after(walk, fall, 50, _lab()))
    stream = _lab()
    stream_recording(walk, 50, stream, start=-60.0)  # then 50 s of silence: the stream restarts
    walked = stream.upright_before(0.0)
    gapped = _hardest(stream_recording(fall, 50, stream))
    assert walked is not None
    np.testing.assert_array_equal(stream.upright_before(gapped.impact_at), walked)
    assert gapped.features[POST] > 60 and gapped.features[PRE] < 45
    rng = np.random.default_rng(3)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    turn = (q * np.sign(np.diag(r))).astype(np.float32)
    if np.linalg.det(turn) < 0:
        turn[:, 0] *= -1
    rotated = _hardest(stream_after(walk @ turn.T, fall @ turn.T, 50, _lab()))
    np.testing.assert_allclose(
        rotated.features[[PRE, POST, TURN]], reference.features[[PRE, POST, TURN]], atol=0.1
    )


def test_replay_plays_each_trial_also_after_its_subjects_walk() -> None:
    trials = [
        t
        for t in find_trials(sisfall_dir())
        if t.subject == "SA03" and t.code in {"D01", "F13"} and t.trial == "R01"
    ]
    preludes = walking_preludes(trials)
    assert set(preludes) == {"SA03"} and len(preludes["SA03"]) == 2000
    plain, walked = replay(trials, [50.0], preludes=preludes)
    assert (plain.prelude, walked.prelude, walked.streams) == (False, True, [])
    fall = next(run for run in walked.trials if run.trial.code == "F13")
    assert fall.candidates and all(c.impact_at >= 0 for c in fall.candidates)
    assert not np.isnan(_hardest(fall.candidates).features[POST])


def test_only_a_scorer_that_uses_the_upright_makes_the_live_stream_learn_it() -> None:
    """The service's stream walks the test only for a model that reads the upright."""
    shipped = bundled_model()
    assert shipped is not None
    assert not FallStream(ThresholdRule()).remember_upright
    assert not FallStream(shipped).remember_upright
    assert FallStream(UprightRouted(shipped, shipped)).remember_upright


def test_routing_scores_known_uprights_with_one_model_and_unknown_with_the_other() -> None:
    rows = np.zeros((2, len(FEATURE_NAMES)))
    rows[1, POST] = np.nan
    routed = UprightRouted(_Constant(0.9), _Constant(0.1))
    np.testing.assert_array_equal(routed.scores(rows), [0.9, 0.1])


class _Constant:
    threshold = 0.5

    def __init__(self, score: float) -> None:
        self.score = score

    def scores(self, features: np.ndarray) -> np.ndarray:
        return np.full(len(features), self.score)

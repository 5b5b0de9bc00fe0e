"""Metric unit checks on constructed curves (no audio, no teacher)."""

from __future__ import annotations

import numpy as np
import pytest

from blender_lipsync.core.contract import CHANNEL_INDEX, MOUTH_CHANNELS, VISEME_INDEX, VISEMES, Curves
from lipsync_train.evaluation import metrics
from lipsync_train.phonemes import Phone

FPS = 25.0
# 2 s: silence, "b", open vowel, "m", open vowel, "p", silence
PHONES = [
    Phone("_", 0.0, 0.3),
    Phone("b", 0.3, 0.4),
    Phone("ɑ", 0.4, 0.8),
    Phone("m", 0.8, 0.9),
    Phone("æ", 0.9, 1.3),
    Phone("p", 1.3, 1.37),
    Phone("_", 1.37, 2.0),
]


def curves_from(jaw: np.ndarray, visemes: list[str] | None = None, fps: float = FPS) -> Curves:
    """Curves whose lips are as open as ``jaw`` (mouthClose 0) and a one-hot viseme track."""
    channels = np.zeros((len(jaw), len(MOUTH_CHANNELS)))
    channels[:, CHANNEL_INDEX["jawOpen"]] = jaw
    probs = np.zeros((len(jaw), len(VISEMES)))
    for k, name in enumerate(visemes or ["sil"] * len(jaw)):
        probs[k, VISEME_INDEX[name]] = 1.0
    return Curves(fps, channels, probs)


def reference() -> Curves:
    """A plausible reference: jaw open on vowels, shut on p/b/m and silence."""
    t = np.arange(51) / FPS
    jaw = np.zeros_like(t)
    visemes = ["sil"] * len(t)
    for p in PHONES:
        inside = (t >= p.start) & (t < p.end)
        jaw[inside] = 0.6 if p.label in ("ɑ", "æ") else 0.0
        for k in np.flatnonzero(inside):
            visemes[k] = {"ɑ": "aa", "æ": "aa", "_": "sil"}.get(p.label, "PP")
    return curves_from(jaw, visemes)


def test_prediction_equal_to_reference_is_perfect() -> None:
    ref = reference()
    s = metrics.score(ref, ref, PHONES)
    assert s["viseme_accuracy"] == 1.0
    assert s["bilabial_recall"] == 1.0 and s["bilabial_segments"] == 3
    assert s["false_closure_rate"] == 0.0 and s["open_vowel_frames"] > 0
    assert s["mouth_l2"] == 0.0
    assert s["jaw_correlation"] == pytest.approx(1.0)
    assert s["lag_frames"] == 0


def test_never_closing_prediction_has_zero_recall() -> None:
    ref = reference()
    s = metrics.score(curves_from(np.full(ref.frames, 0.5)), ref, PHONES)
    assert s["bilabial_recall"] == 0.0
    assert s["false_closure_rate"] == 0.0
    assert s["jaw_correlation"] is None  # a constant jaw has no correlation
    assert s["lag_frames"] is None  # nothing moves, nothing to align


def test_always_closed_prediction_has_full_false_closure() -> None:
    ref = reference()
    s = metrics.score(curves_from(np.zeros(ref.frames)), ref, PHONES)
    assert s["false_closure_rate"] == 1.0
    assert s["bilabial_recall"] == 1.0  # closing everywhere trivially "hits" p/b/m


def test_l2_and_accuracy_values() -> None:
    ref = reference()
    pred = curves_from(ref.channel("jawOpen") + 0.1, ["aa"] * ref.frames)
    s = metrics.score(pred, ref, PHONES)
    assert s["mouth_l2"] == pytest.approx(0.1, abs=1e-6)  # one channel off by 0.1 on every frame
    aa_frames = int(np.sum(ref.viseme_ids() == VISEME_INDEX["aa"]))
    assert s["viseme_accuracy"] == pytest.approx(aa_frames / ref.frames)
    t = metrics.tally(pred, ref, PHONES)
    aa, pp = VISEME_INDEX["aa"], VISEME_INDEX["PP"]
    assert np.trace(t.confusion) == t.viseme_hits == aa_frames
    assert t.confusion[:, aa].sum() == ref.frames  # every frame predicted aa, in the aa column
    assert t.confusion[pp, aa] == np.sum(ref.viseme_ids() == pp)
    recall = t.viseme_recall()
    assert recall["aa"] == 1.0 and recall["PP"] == 0.0 and recall["FF"] is None


@pytest.mark.parametrize("shift", [3, -3, 1, 7])
def test_lag_reads_the_shift(shift: int) -> None:
    ref = reference()
    s = metrics.score(ref.shifted(shift), ref, PHONES)
    assert s["lag_frames"] == shift  # positive = prediction late


def test_short_bilabial_is_judged_on_bracketing_frames() -> None:
    # A 20 ms /p/ between two frame instants (0.04 s apart) still gets frames 7 and 8.
    idx = metrics.segment_frames(0.285, 0.305, FPS, 50, pad=0)
    assert idx.size == 0
    assert list(metrics.segment_frames(0.285, 0.305, FPS, 50, pad=1)) == [7, 8]
    closed = np.zeros(50, bool)
    closed[8] = True
    assert metrics.bilabial_closures(closed, [Phone("p", 0.285, 0.305)], FPS) == (1, 1)


def test_false_closure_ignores_frames_where_the_reference_is_closed() -> None:
    vowel = [Phone("ɑ", 0.4, 0.8)]  # central half 0.5..0.7 s = frames 13..17 at 25 fps
    closed = np.ones(50, bool)
    ref_closed = np.zeros(50, bool)
    assert metrics.false_closures(closed, ref_closed, vowel, FPS) == (5, 5)
    ref_closed[14] = True  # the reference itself seals there (a vowel squeezed between p and b)
    assert metrics.false_closures(closed, ref_closed, vowel, FPS) == (4, 4)
    assert metrics.false_closures(~closed, ref_closed, vowel, FPS) == (4, 0)


def test_pooling_sums_counts_and_concatenates_frames() -> None:
    rng = np.random.default_rng(0)
    ref = reference()
    short = Curves(FPS, ref.channels[:20], ref.visemes[:20])
    phones_short = [p for p in PHONES if p.end <= 20 / FPS] + [Phone("ɑ", 0.4, 0.8)]
    preds = [
        curves_from(rng.uniform(0, 0.6, ref.frames), ["aa"] * ref.frames),
        curves_from(rng.uniform(0, 0.6, 20), ["sil"] * 20),
    ]
    tallies = [metrics.tally(preds[0], ref, PHONES), metrics.tally(preds[1], short, phones_short)]
    pooled = metrics.pool(tallies).scores()
    assert pooled["frames"] == ref.frames + 20
    hits = sum(t.viseme_hits for t in tallies)
    assert pooled["viseme_accuracy"] == pytest.approx(hits / (ref.frames + 20))
    assert np.array_equal(metrics.pool(tallies).confusion, tallies[0].confusion + tallies[1].confusion)
    assert pooled["bilabial_segments"] == sum(t.bilabial_segments for t in tallies)
    jaw_p = np.concatenate([preds[0].channel("jawOpen"), preds[1].channel("jawOpen")])
    jaw_r = np.concatenate([ref.channel("jawOpen"), short.channel("jawOpen")])
    assert pooled["jaw_correlation"] == pytest.approx(np.corrcoef(jaw_p, jaw_r)[0, 1], abs=1e-9)
    l2 = np.linalg.norm(
        np.concatenate([preds[0].channels, preds[1].channels])
        - np.concatenate([ref.channels, short.channels]),
        axis=1,
    ).mean()
    assert pooled["mouth_l2"] == pytest.approx(l2, rel=1e-6)


def test_mismatched_inputs_are_refused() -> None:
    ref = reference()
    with pytest.raises(ValueError, match="fps"):
        metrics.score(curves_from(ref.channel("jawOpen"), fps=24.0), ref, PHONES)
    with pytest.raises(ValueError, match="frames"):
        metrics.score(curves_from(ref.channel("jawOpen")[:40]), ref, PHONES)
    # one frame of rounding at the clip end is tolerated
    assert metrics.score(curves_from(ref.channel("jawOpen")[:-1]), ref, PHONES)["frames"] == ref.frames - 1

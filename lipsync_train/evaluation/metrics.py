"""Lip-sync quality metrics: a prediction against the teacher's reference (DESIGN.md section 6).

Every metric is computed from additive statistics (:class:`Tally`), so a data set is
scored by summing its files' tallies: counts are summed and frames concatenated, never
ratios averaged.  Pure numpy, no bpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from blender_lipsync.core.contract import CHANNEL_INDEX, VISEMES, Curves, lip_aperture, lips_closed
from lipsync_train.phonemes import BILABIALS, OPEN_VOWELS, Phone

MAX_LAG = 10
"""Largest lag (frames, either direction) the cross-correlation searches."""

MAX_FRAME_MISMATCH = 2
"""Frames by which prediction and reference lengths may differ (rounding of the clip end)."""

_JAW = CHANNEL_INDEX["jawOpen"]


@dataclass
class Moments:
    """Centred second moments of paired samples (x, y), mergeable without loss of precision."""

    n: int = 0
    mean_x: float = 0.0
    mean_y: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> Moments:
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.size == 0:
            return cls()
        dx, dy = x - x.mean(), y - y.mean()
        return cls(x.size, float(x.mean()), float(y.mean()), float(dx @ dx), float(dy @ dy), float(dx @ dy))

    def __add__(self, other: Moments) -> Moments:
        # Chan et al. pairwise update: the pooled moments of the concatenated samples.
        n = self.n + other.n
        if n == 0:
            return Moments()
        dx, dy = other.mean_x - self.mean_x, other.mean_y - self.mean_y
        w = self.n * other.n / n
        return Moments(
            n,
            self.mean_x + dx * other.n / n,
            self.mean_y + dy * other.n / n,
            self.sxx + other.sxx + dx * dx * w,
            self.syy + other.syy + dy * dy * w,
            self.sxy + other.sxy + dx * dy * w,
        )

    def pearson(self) -> float:
        """Pearson correlation; NaN when either side is constant."""
        denom = np.sqrt(self.sxx * self.syy)
        if self.n < 2 or denom <= 1e-12 * max(self.n, 1):
            return float("nan")
        return float(np.clip(self.sxy / denom, -1.0, 1.0))


def empty_confusion() -> np.ndarray:
    """A zero (reference viseme, predicted viseme) frame-count matrix."""
    return np.zeros((len(VISEMES),) * 2, dtype=np.int64)


@dataclass
class Tally:
    """Additive statistics of one file or of a pool of files (add tallies to pool)."""

    frames: int = 0
    bilabial_segments: int = 0
    bilabials_closed: int = 0
    open_vowel_frames: int = 0  # central half of open vowels, reference lips open
    open_vowel_frames_closed: int = 0
    l2_sum: float = 0.0
    jaw: Moments = field(default_factory=Moments)
    xcorr: np.ndarray = field(default_factory=lambda: np.zeros(2 * MAX_LAG + 1))
    confusion: np.ndarray = field(default_factory=empty_confusion)
    """Frames per (reference viseme, predicted viseme); its trace is ``viseme_hits``."""

    @property
    def viseme_hits(self) -> int:
        """Frames whose predicted viseme is the reference's."""
        return int(np.trace(self.confusion))

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.frames + other.frames,
            self.bilabial_segments + other.bilabial_segments,
            self.bilabials_closed + other.bilabials_closed,
            self.open_vowel_frames + other.open_vowel_frames,
            self.open_vowel_frames_closed + other.open_vowel_frames_closed,
            self.l2_sum + other.l2_sum,
            self.jaw + other.jaw,
            self.xcorr + other.xcorr,
            self.confusion + other.confusion,
        )

    def viseme_recall(self) -> dict[str, float | None]:
        """Per reference viseme, the share of its frames predicted as it (None: never in the reference)."""
        return {
            v: _ratio(int(self.confusion[i, i]), int(self.confusion[i].sum())) for i, v in enumerate(VISEMES)
        }

    def scores(self) -> dict[str, float | int | None]:
        """The section 6 numbers.  Ratios with an empty denominator are None."""
        return {
            "viseme_accuracy": _ratio(self.viseme_hits, self.frames),
            "bilabial_recall": _ratio(self.bilabials_closed, self.bilabial_segments),
            "false_closure_rate": _ratio(self.open_vowel_frames_closed, self.open_vowel_frames),
            "jaw_correlation": _nan_to_none(self.jaw.pearson()),
            "mouth_l2": _ratio(self.l2_sum, self.frames),
            "lag_frames": best_lag(self.xcorr),
            "frames": self.frames,
            "bilabial_segments": self.bilabial_segments,
            "open_vowel_frames": self.open_vowel_frames,
        }


def pool(tallies: Iterable[Tally]) -> Tally:
    """The tally of all files together."""
    total = Tally()
    for t in tallies:
        total = total + t
    return total


def tally(pred: Curves, ref: Curves, phones: Sequence[Phone]) -> Tally:
    """Score one file: ``pred`` against ``ref`` (same fps), ``phones`` the reference timeline."""
    pred, ref = _common_length(pred, ref)
    confusion = empty_confusion()
    np.add.at(confusion, (ref.viseme_ids(), pred.viseme_ids()), 1)
    closed = lips_closed(pred.channels)
    bilabials, bilabials_closed = bilabial_closures(closed, phones, ref.fps)
    vowel_frames, vowel_closed = false_closures(closed, lips_closed(ref.channels), phones, ref.fps)
    return Tally(
        frames=ref.frames,
        bilabial_segments=bilabials,
        bilabials_closed=bilabials_closed,
        open_vowel_frames=vowel_frames,
        open_vowel_frames_closed=vowel_closed,
        l2_sum=float(np.linalg.norm(pred.channels.astype(np.float64) - ref.channels, axis=1).sum()),
        jaw=Moments.of(pred.channels[:, _JAW], ref.channels[:, _JAW]),
        xcorr=cross_correlation(motion_signal(pred), motion_signal(ref)),
        confusion=confusion,
    )


def score(pred: Curves, ref: Curves, phones: Sequence[Phone]) -> dict[str, float | int | None]:
    """Shortcut: the scores of one file."""
    return tally(pred, ref, phones).scores()


# ---------------------------------------------------------------- closures


def segment_frames(start: float, end: float, fps: float, frames: int, pad: int = 0) -> np.ndarray:
    """Indices of the frames whose instants ``k / fps`` lie in [start, end), widened by ``pad``.

    A segment shorter than a frame holds no instant; with ``pad=1`` it still gets the two
    frames that bracket it, so a short /p/ at 24 fps is judged on its neighbours.
    """
    first = int(np.ceil(start * fps - 1e-9))
    last = int(np.ceil(end * fps - 1e-9)) - 1
    lo, hi = max(first - pad, 0), min(last + pad, frames - 1)
    return np.arange(lo, hi + 1) if hi >= lo else np.zeros(0, dtype=int)


def bilabial_closures(closed: np.ndarray, phones: Sequence[Phone], fps: float) -> tuple[int, int]:
    """(p/b/m segments, of which the lips close in at least one frame within +-1 frame)."""
    segments = hits = 0
    for p in phones:
        if p.label in BILABIALS:
            segments += 1
            hits += bool(closed[segment_frames(p.start, p.end, fps, len(closed), pad=1)].any())
    return segments, hits


def false_closures(
    closed: np.ndarray, ref_closed: np.ndarray, phones: Sequence[Phone], fps: float
) -> tuple[int, int]:
    """(frames in the central half of open vowels where the reference lips are open, of
    which the predicted lips are closed).

    Frames where the reference itself is sealed are not counted: a vowel squeezed between
    two bilabials (30 ms "prob" at 24 fps) may never open, and closing there is not false.
    """
    frames = hits = 0
    for p in phones:
        if p.label in OPEN_VOWELS:
            quarter = (p.end - p.start) / 4
            idx = segment_frames(p.start + quarter, p.end - quarter, fps, len(closed))
            idx = idx[~ref_closed[idx]]
            frames += idx.size
            hits += int(closed[idx].sum())
    return frames, hits


# ---------------------------------------------------------------- lag


def motion_signal(curves: Curves) -> np.ndarray:
    """(frames, 2) articulation signal: jawOpen and lip aperture, each mean-removed."""
    sig = np.stack([curves.channels[:, _JAW].astype(np.float64), lip_aperture(curves.channels)], axis=1)
    return sig - sig.mean(axis=0)


def cross_correlation(pred: np.ndarray, ref: np.ndarray, max_lag: int = MAX_LAG) -> np.ndarray:
    """``c[max_lag + k] = sum_t pred[t + k] . ref[t]`` for k in [-max_lag, max_lag].

    Unnormalised sums, so files add up in proportion to their length and motion.
    """
    n = min(len(pred), len(ref))
    out = np.zeros(2 * max_lag + 1)
    for i, k in enumerate(range(-max_lag, max_lag + 1)):
        lo, hi = max(0, -k), min(n, n - k)
        if hi > lo:
            out[i] = float(np.sum(pred[lo + k : hi + k] * ref[lo:hi]))
    return out


def best_lag(xcorr: np.ndarray) -> int | None:
    """Offset (frames) with the strongest correlation; positive = prediction late.

    None when there is no motion to align (all sums zero or negative).  Ties go to the
    smallest offset, so a perfect prediction reads 0.
    """
    max_lag = (len(xcorr) - 1) // 2
    if not np.any(xcorr > 1e-12):
        return None
    lags = np.arange(-max_lag, max_lag + 1)
    best = np.flatnonzero(xcorr >= xcorr.max() - 1e-12 * abs(xcorr.max()))
    return int(lags[best[np.argmin(np.abs(lags[best]))]])


# ---------------------------------------------------------------- helpers


def _common_length(pred: Curves, ref: Curves) -> tuple[Curves, Curves]:
    if not np.isclose(pred.fps, ref.fps):
        raise ValueError(f"prediction at {pred.fps} fps, reference at {ref.fps} fps: render both at one rate")
    if abs(pred.frames - ref.frames) > MAX_FRAME_MISMATCH:
        raise ValueError(f"prediction has {pred.frames} frames, reference {ref.frames}")
    n = min(pred.frames, ref.frames)
    return (
        Curves(pred.fps, pred.channels[:n], pred.visemes[:n]),
        Curves(ref.fps, ref.channels[:n], ref.visemes[:n]),
    )


def _ratio(num: float, den: float) -> float | None:
    return float(num) / den if den else None


def _nan_to_none(x: float) -> float | None:
    return None if np.isnan(x) else float(x)

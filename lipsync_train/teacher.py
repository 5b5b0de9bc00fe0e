"""The teacher: phone timing (+ loudness) -> mouth curves an animator would sign off on.

Co-articulation follows Cohen & Massaro's dominance model: every phone target pulls
each articulatory parameter towards its value with a dominance that is flat over the
phone's core and decays before it (anticipation) and after it (carry-over).  A frame's
value is the dominance-weighted mean of all targets.  On top of the blend:

* bilabials (p b m) always seal the lips: the seal is forced over their core;
* labiodentals (f v) tuck the lower lip; rounding (u, o, w, sh) anticipates early;
* tongue-only consonants (t d n l k g s z h) own no lip shape: their lip dominance is
  tiny, so the neighbours' lip shapes carry through them;
* the jaw follows vowel openness and loudness (JALI's jaw/lip split).

Seven articulatory parameters are blended and then mapped onto ARKit channels.
The style vector (``blender_lipsync.core.style.Style``) changes the rendering, so a
decoder trained on these targets learns style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from blender_lipsync.core.contract import (
    CHANNEL_INDEX,
    MOUTH_CHANNELS,
    VISEME_INDEX,
    VISEMES,
    Curves,
    frame_count,
)
from blender_lipsync.core.style import Style

from .phonemes import PHONES, SILENCE, Phone, PhoneInfo, parts

PARAMS = ("jaw", "seal", "tuck", "funnel", "pucker", "spread", "tongue")
_P = {name: i for i, name in enumerate(PARAMS)}
LIP_SHAPE_PARAMS = (_P["funnel"], _P["pucker"], _P["spread"])
NEAR_SEAL = 0.6
"""How far bilabial approximants (β, ɸ) bring the lips together (1 = sealed)."""
REST_DOMINANCE = 1e-3
"""Weak pull of the neutral (rest) pose everywhere: long pauses relax, nothing divides by 0."""


@dataclass
class Loudness:
    """Per-utterance normalised loudness (0 = quiet, 1 = the loud parts) over time."""

    times: np.ndarray
    values: np.ndarray

    def at(self, t: np.ndarray | float) -> np.ndarray:
        return np.interp(t, self.times, self.values)


def loudness_envelope(audio: np.ndarray, sr: int, hop_s: float = 0.01, window_s: float = 0.03) -> Loudness:
    """Short-time RMS level in dB, relative to the utterance's loud parts, mapped to [0, 1].

    0 dB (the 95th percentile frame) -> 1, -30 dB and below -> 0; smoothed over ~50 ms.
    """
    x = np.asarray(audio, dtype=np.float64)
    hop, win = max(1, int(hop_s * sr)), max(1, int(window_s * sr))
    n = max(1, 1 + (len(x) - 1) // hop) if len(x) else 1
    padded = np.pad(x, (win // 2, win))
    power = (
        np.array([np.mean(padded[i * hop : i * hop + win] ** 2) for i in range(n)]) if len(x) else np.zeros(1)
    )
    db = 10 * np.log10(power + 1e-10)
    ref = np.percentile(db, 95) if np.any(power > 1e-10) else 0.0
    values = np.clip((db - ref + 30.0) / 30.0, 0.0, 1.0)
    kernel = np.hanning(7)
    values = np.convolve(values, kernel / kernel.sum(), mode="same")
    return Loudness(np.arange(n) * hop_s, np.clip(values, 0.0, 1.0))


@dataclass
class _Targets:
    """Phone parts (sub-targets) laid out as arrays, one row per target."""

    start: np.ndarray
    end: np.ndarray
    values: np.ndarray  # (targets, params)
    alpha: np.ndarray  # (targets, params) dominance strength
    before: np.ndarray  # (targets,) anticipation time constant, s
    after: np.ndarray  # (targets,) carry-over time constant, s
    visemes: list[str | None]
    bilabial: np.ndarray  # (targets,) bool: p b m
    dental: np.ndarray  # (targets,) bool: f v
    near: np.ndarray  # (targets,) bool: bilabial approximants


def _part_values(info: PhoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Articulatory target and per-parameter dominance strength of one phone part."""
    v = np.zeros(len(PARAMS))
    a = np.ones(len(PARAMS))
    v[_P["jaw"]] = info.open
    v[_P["spread"]] = info.spread
    v[_P["tongue"]] = info.tongue_out
    if info.kind == "vowel" or info.viseme in ("U", "I"):
        openness = np.clip(info.open / 0.4, 0.0, 1.0)
        v[_P["funnel"]] = info.round * openness
        v[_P["pucker"]] = info.round * (1.0 - 0.7 * openness)
    else:
        v[_P["funnel"]] = info.round * 0.9
        v[_P["pucker"]] = info.round * 0.35
    if info.kind == "silence":
        a[:] = 1.2  # pauses relax the mouth; speech pre-shapes it only shortly before
    elif info.lips == "close":
        a[_P["jaw"]] = 0.8
        a[list(LIP_SHAPE_PARAMS)] = 0.25
    elif info.lips == "near":  # bilabial approximants: the lips nearly meet (see render)
        a[list(LIP_SHAPE_PARAMS)] = 0.3
    elif info.lips == "dental":
        a[_P["jaw"]] = 0.9
        a[list(LIP_SHAPE_PARAMS)] = 0.3
    elif info.lips == "free":
        # Tongue-only consonants: the lips belong to the neighbours.
        a[list(LIP_SHAPE_PARAMS)] = 0.04
        a[_P["jaw"]] = 0.9 if info.viseme in ("SS", "CH", "TH") else 0.5
    elif info.kind == "consonant":  # shaped consonants: w, j, r, sh own their lip shape
        a[list(LIP_SHAPE_PARAMS)] = 2.0
        a[_P["jaw"]] = 0.6
    if info.tongue_out:
        a[_P["tongue"]] = 4.0
    return v, a


def _layout(phones: Sequence[Phone], style: Style, loudness: Loudness | None) -> _Targets:
    rows = []
    for phone in phones:
        t = phone.start
        for name, share in parts(phone.label):
            end = t + share * (phone.end - phone.start)
            info = PHONES[name]
            values, alpha = _part_values(info)
            if info.kind == "vowel" and loudness is not None:
                # JALI: louder syllables open the jaw further.
                loud = float(loudness.at(0.5 * (t + end)))
                values[_P["jaw"]] *= 0.6 + 0.55 * loud
            rows.append((t, end, values, alpha, info))
            t = end
    anticip = 0.02 + style.anticipation_ms / 1000.0 * 0.6
    sharp = 1.45 - 0.9 * style.articulation  # time-constant scale: crisp = short
    before, after = [], []
    for *_, info in rows:
        rounded = info.round >= 0.5 or info.lips == "dental"
        before.append(sharp * anticip * (1.8 if rounded else 1.0))
        after.append(sharp * 0.045)
    return _Targets(
        start=np.array([r[0] for r in rows]),
        end=np.array([r[1] for r in rows]),
        values=np.array([r[2] for r in rows]).reshape(len(rows), len(PARAMS)),
        alpha=np.array([r[3] for r in rows]).reshape(len(rows), len(PARAMS)),
        before=np.array(before),
        after=np.array(after),
        visemes=[r[4].viseme for r in rows],
        bilabial=np.array([r[4].lips == "close" for r in rows], dtype=bool),
        dental=np.array([r[4].lips == "dental" for r in rows], dtype=bool),
        near=np.array([r[4].lips == "near" for r in rows], dtype=bool),
    )


def _blend(targets: _Targets, times: np.ndarray, style: Style) -> np.ndarray:
    """Dominance-weighted mean of all targets at each instant -> (frames, params)."""
    core = 0.5 * (0.25 + 0.5 * style.articulation)  # share of a phone trimmed at each end
    dur = targets.end - targets.start
    core_start = targets.start + core * dur
    core_end = targets.end - core * dur
    t = times[:, None]
    dist_before = np.clip(core_start[None, :] - t, 0.0, None) / targets.before[None, :]
    dist_after = np.clip(t - core_end[None, :], 0.0, None) / targets.after[None, :]
    power = 1.0 + style.articulation  # crisp gestures fall off faster
    shape = np.exp(-((dist_before + dist_after) ** power))  # (frames, targets)
    dominance = shape[:, :, None] * targets.alpha[None, :, :]  # (frames, targets, params)
    weighted = np.einsum("ftp,tp->fp", dominance, targets.values)
    total = dominance.sum(axis=1) + REST_DOMINANCE
    return weighted / total


def _gesture(start: np.ndarray, end: np.ndarray, times: np.ndarray, style: Style) -> np.ndarray:
    """Envelope of quick lip gestures (seal, tuck): 1 over each phone's core, fast ramps.

    Blending them by dominance would let a strong seal bleed into the vowels around it;
    a lip closure is a short, ballistic movement, so it gets its own narrow envelope.
    """
    if len(start) == 0:
        return np.zeros(len(times))
    dur = end - start
    core_start, core_end = start + 0.2 * dur, end - 0.2 * dur
    ramp = 0.022 + 0.025 * (1.0 - style.articulation)
    lead = ramp * (1.0 + style.anticipation_ms / 150.0)
    t = times[:, None]
    d = np.clip(core_start[None, :] - t, 0.0, None) / lead + np.clip(t - core_end[None, :], 0.0, None) / ramp
    envelope = np.exp(-(d**2)).max(axis=1)
    # The frame nearest each phone centre is inside the gesture even when the phone is
    # shorter than a frame: a p/b/m must never fall between two frames unsealed.
    centres = 0.5 * (start + end)
    nearest = np.abs(times[:, None] - centres[None, :]).argmin(axis=0)
    envelope[nearest] = 1.0
    return envelope


def _to_channels(params: np.ndarray, style: Style) -> np.ndarray:
    """Articulatory parameters -> ARKit channel values in [0, 1]."""
    jaw = np.clip(params[:, _P["jaw"]] * style.jaw * style.intensity, 0.0, 1.0)
    seal = np.clip(params[:, _P["seal"]], 0.0, 1.0)
    open_lips = 1.0 - seal
    lip_gain = style.lips * style.intensity * (0.75 + 0.5 * style.articulation)
    tuck = np.clip(params[:, _P["tuck"]], 0.0, 1.0)
    funnel = params[:, _P["funnel"]] * lip_gain * open_lips
    pucker = params[:, _P["pucker"]] * lip_gain
    spread = params[:, _P["spread"]] * lip_gain * open_lips
    press = seal**2 * (0.05 + 0.4 * (style.closure - 0.5) / 0.5)
    out = np.zeros((len(params), len(MOUTH_CHANNELS)))

    def put(names: tuple[str, ...], value: np.ndarray) -> None:
        for name in names:
            out[:, CHANNEL_INDEX[name]] = value

    put(("jawOpen",), jaw)
    put(("mouthClose",), seal * jaw)
    put(("mouthFunnel",), funnel)
    put(("mouthPucker",), pucker)
    put(("jawForward",), 0.15 * pucker)
    put(("mouthSmileLeft", "mouthSmileRight"), 0.35 * spread)
    put(("mouthStretchLeft", "mouthStretchRight"), 0.45 * spread)
    put(("mouthRollLower",), 0.65 * tuck * lip_gain + 0.3 * press)
    put(("mouthRollUpper",), 0.15 * tuck * lip_gain + 0.2 * press)
    put(("mouthShrugLower",), 0.3 * tuck * lip_gain + 0.15 * press)
    put(("mouthShrugUpper",), 0.1 * press)
    put(("mouthPressLeft", "mouthPressRight"), press)
    put(
        ("mouthUpperUpLeft", "mouthUpperUpRight"),
        (0.3 * tuck + 0.25 * spread + 0.2 * jaw) * open_lips * lip_gain,
    )
    put(
        ("mouthLowerDownLeft", "mouthLowerDownRight"),
        (0.45 * jaw + 0.15 * spread) * open_lips * (1.0 - tuck) * lip_gain,
    )
    put(("tongueOut",), np.clip(params[:, _P["tongue"]], 0, 1) * style.intensity)
    return np.clip(out, 0.0, 1.0)


def _viseme_track(targets: _Targets, times: np.ndarray, style: Style) -> np.ndarray:
    """Soft viseme labels: each frame's ±10 ms window shared among the parts it overlaps.

    The track leads the sound a little (part of the anticipation), as the channels do.
    Transparent phones (h) show the viseme of what follows them.
    """
    resolved: list[str] = []
    following = "sil"
    for vis in reversed(targets.visemes):
        following = vis if vis is not None else following
        resolved.append(following)
    resolved.reverse()
    ids = np.array([VISEME_INDEX[v] for v in resolved], dtype=int)
    lead = 0.4 * style.anticipation_ms / 1000.0
    half = 0.010
    lo = times[:, None] + lead - half
    hi = times[:, None] + lead + half
    overlap = np.clip(
        np.minimum(hi, targets.end[None, :]) - np.maximum(lo, targets.start[None, :]), 0.0, None
    )
    probs = np.zeros((len(times), len(VISEMES)))
    np.add.at(probs.T, ids, overlap.T)
    empty = probs.sum(axis=1) <= 0
    probs[empty, VISEME_INDEX["sil"]] = 1.0
    return probs / probs.sum(axis=1, keepdims=True)


def render(
    phones: Sequence[Phone],
    fps: float,
    style: Style | None = None,
    loudness: Loudness | None = None,
    duration: float | None = None,
) -> Curves:
    """Reference lip-sync for a known phone timeline, sampled at ``fps`` (any rate).

    ``phones`` is a canonical timeline (``phonemes.clean_timeline``); ``loudness`` (from
    ``loudness_envelope`` of the same audio) lets the jaw follow emphasis; ``duration``
    defaults to the end of the last phone.
    """
    style = style or Style()
    phones = [p for p in phones if p.end > p.start] or [Phone(SILENCE, 0.0, duration or 0.0)]
    duration = phones[-1].end if duration is None else duration
    times = np.arange(frame_count(duration, fps)) / fps
    targets = _layout(phones, style, loudness)
    if len(targets.start) == 0:
        return Curves(fps, np.zeros((len(times), len(MOUTH_CHANNELS))), _silence_visemes(len(times)))
    params = _blend(targets, times, style)
    seal = _gesture(targets.start[targets.bilabial], targets.end[targets.bilabial], times, style)
    near = _gesture(targets.start[targets.near], targets.end[targets.near], times, style)
    params[:, _P["seal"]] = np.maximum(seal, NEAR_SEAL * near)
    params[:, _P["tuck"]] = _gesture(targets.start[targets.dental], targets.end[targets.dental], times, style)
    return Curves(fps, _to_channels(params, style), _viseme_track(targets, times, style))


def _silence_visemes(frames: int) -> np.ndarray:
    probs = np.zeros((frames, len(VISEMES)))
    probs[:, VISEME_INDEX["sil"]] = 1.0
    return probs

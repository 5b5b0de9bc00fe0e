"""Audio augmentation for aligned speech: every function keeps the phone timeline valid.

Timing-neutral transforms (WORLD voice change, noise, reverb, EQ, band-limiting,
gain) leave the labels as they are; speed perturbation rescales them.  All
randomness comes from a ``numpy.random.Generator`` passed in, so a seed reproduces
a chain exactly.  Outputs are float32, finite, and never clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.signal import butter, fftconvolve, lfilter, sosfiltfilt

from blender_lipsync.core.audio import resample
from blender_lipsync.core.dsp import true_runs

from .phonemes import Phone, clean_timeline

WORLD_SR = 16000
"""WORLD runs at 16 kHz: ~3x cheaper than 32 kHz, and the model hears 16 kHz anyway."""
PEAK = 0.95
NOISE_KINDS = ("white", "pink", "brown", "modulated")
BAND_KINDS = ("telephone", "lowpass", "8k")


# ---------------------------------------------------------------- WORLD


@dataclass
class WorldAnalysis:
    """WORLD parameters of one utterance at ``WORLD_SR`` (5 ms frames)."""

    f0: np.ndarray
    sp: np.ndarray  # spectral envelope (frames x bins)
    ap: np.ndarray  # aperiodicity (frames x bins)
    n_samples: int
    frame_period: float = 5.0
    sr: int = WORLD_SR


def world_analyze(audio: np.ndarray, sr: int, frame_period: float = 5.0) -> WorldAnalysis:
    """Resample to 16 kHz and analyse once (dio + stonemask, cheaptrick, d4c)."""
    import pyworld as pw  # lazily: WORLD is only needed when variants are made

    x = np.ascontiguousarray(resample(np.asarray(audio, np.float32), sr, WORLD_SR), dtype=np.float64)
    f0, t = pw.dio(x, WORLD_SR, f0_floor=60.0, f0_ceil=600.0, frame_period=frame_period)
    f0 = pw.stonemask(x, f0, t, WORLD_SR)
    sp = pw.cheaptrick(x, f0, t, WORLD_SR)
    ap = pw.d4c(x, f0, t, WORLD_SR)
    return WorldAnalysis(f0, sp, ap, len(x), frame_period)


def warp_envelope(env: np.ndarray, alpha: float) -> np.ndarray:
    """VTLP: ``new(f) = env(f / alpha)``; alpha > 1 moves formants up (shorter tract)."""
    n = env.shape[1]
    src = np.clip(np.arange(n) / alpha, 0, n - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = src - lo
    return np.ascontiguousarray(env[:, lo] * (1 - w) + env[:, hi] * w)


def world_variants(analysis: WorldAnalysis, settings: list[tuple[float, float]]) -> list[np.ndarray]:
    """Resynthesise one analysis as several voices: ``[(f0_scale, formant_alpha), ...]``.

    Sensible ranges: f0_scale 0.6-1.7, alpha 0.85-1.18.  Each output is float32 at
    ``analysis.sr`` with exactly ``analysis.n_samples`` samples: timing is unchanged.
    """
    import pyworld as pw  # lazily: WORLD is only needed when variants are made

    out = []
    for f0_scale, alpha in settings:
        sp, ap = analysis.sp, analysis.ap
        if alpha != 1.0:
            sp, ap = warp_envelope(sp, alpha), warp_envelope(ap, alpha)
        y = pw.synthesize(
            np.ascontiguousarray(analysis.f0 * f0_scale), sp, ap, analysis.sr, analysis.frame_period
        )
        y = _fit_length(y, analysis.n_samples)
        out.append(limit_peak(y))
    return out


def world_voices(rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """``count`` voices for ``world_variants``: pitch scale and vocal-tract warp, correlated
    (higher voices, shorter tracts)."""
    settings = []
    for _ in range(count):
        f0 = float(np.exp(rng.uniform(np.log(0.62), np.log(1.65))))
        alpha = float(np.clip(1.0 + 0.28 * np.log(f0) + rng.normal(0, 0.04), 0.86, 1.17))
        settings.append((f0, alpha))
    return settings


def world_voice(audio: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``audio`` (at ``WORLD_SR``) spoken by one voice drawn by ``world_voices``; same length and timing."""
    if sr != WORLD_SR:
        raise ValueError(f"world_voice needs {WORLD_SR} Hz audio, got {sr}")
    return world_variants(world_analyze(audio, sr), world_voices(rng, 1))[0].astype(np.float32)


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


# ---------------------------------------------------------------- timing


def speed_perturb(
    audio: np.ndarray, sr: int, phones: list[Phone], factor: float
) -> tuple[np.ndarray, list[Phone]]:
    """Play ``factor`` times faster by resampling (pitch moves with it, as in Kaldi).

    ``factor`` is used as the nearest fraction with denominator <= 200 (1.07 ->
    107/100); label times are divided by exactly that fraction and the timeline ends
    at the new duration.
    """
    frac = Fraction(factor).limit_denominator(200)
    if not 0.5 <= frac <= 2.0:
        raise ValueError(f"speed factor {factor} outside 0.5-2")
    y = resample(np.asarray(audio, np.float32), sr * frac.numerator, sr * frac.denominator)
    scale = float(frac)
    moved = [(p.label, p.start / scale, p.end / scale) for p in phones]
    return y.astype(np.float32), clean_timeline(moved, len(y) / sr)


# ---------------------------------------------------------------- noise


def active_power(audio: np.ndarray, sr: int, floor_db: float = 40.0) -> float:
    """Mean power of the 20 ms frames within ``floor_db`` of the loudest (speech level)."""
    x = np.asarray(audio, np.float64)
    hop = max(1, int(0.02 * sr))
    n = len(x) // hop
    if n == 0:
        return float(np.mean(x**2)) if len(x) else 0.0
    frames = np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)
    active = frames[frames >= frames.max() * 10 ** (-floor_db / 10)]
    return float(active.mean())


def colored_noise(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    y = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    y -= y.mean()
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def make_noise(n: int, sr: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise: white, pink, brown, or modulated (pink under a slow 0.5-4 Hz envelope)."""
    if kind == "white":
        return colored_noise(n, rng, 0.0)
    if kind == "pink":
        return colored_noise(n, rng, 1.0)
    if kind == "brown":
        return colored_noise(n, rng, 2.0)
    if kind == "modulated":
        t = np.arange(n) / sr
        env = np.ones(n)
        for _ in range(3):  # a few slow sinusoids: fluctuating babble/traffic-like level
            env += 0.5 * np.sin(2 * np.pi * rng.uniform(0.5, 4.0) * t + rng.uniform(0, 2 * np.pi))
        y = colored_noise(n, rng, 1.0) * np.clip(env, 0.1, None)
        return y / (np.sqrt(np.mean(y**2)) + 1e-12)
    raise ValueError(f"unknown noise kind {kind!r}; use one of {NOISE_KINDS}")


def add_noise(audio: np.ndarray, sr: int, snr_db: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Add noise at ``snr_db`` relative to the speech level (``active_power``)."""
    x = np.asarray(audio, np.float64)
    noise = make_noise(len(x), sr, kind, rng)
    target = active_power(x, sr) / 10 ** (snr_db / 10)
    return (x + noise * np.sqrt(target)).astype(np.float32)


def add_rumble(audio: np.ndarray, sr: int, level_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add sub-audio rumble ``level_db`` above the speech level (``active_power``): a DC
    offset plus 1-3 sinusoids of 1-15 Hz, as handling noise, wind, air conditioning and a
    drifting converter leave on real recordings."""
    x = np.asarray(audio, np.float64)
    t = np.arange(len(x)) / sr
    rumble = np.full(len(x), rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0))
    for _ in range(int(rng.integers(1, 4))):
        hz, phase = rng.uniform(1.0, 15.0), rng.uniform(0.0, 2 * np.pi)
        rumble += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * hz * t + phase)
    scale = np.sqrt(active_power(x, sr) * 10 ** (level_db / 10) / max(float(np.mean(rumble**2)), 1e-20))
    return (x + scale * rumble).astype(np.float32)


# ---------------------------------------------------------------- reverberation


def room_impulse_response(sr: int, rt60: float, rng: np.random.Generator, drr_db: float = 3.0) -> np.ndarray:
    """Synthetic RIR: a unit direct path at sample 0, then an exponentially decaying,
    slightly low-passed noise tail (-60 dB after ``rt60`` s) starting 2-10 ms later.
    ``drr_db`` is the direct-to-reverberant energy ratio."""
    n = int(sr * rt60 * 1.2) + 1
    delay = int(sr * rng.uniform(0.002, 0.010))
    t = np.arange(n - delay) / sr
    tail = rng.standard_normal(n - delay) * np.exp(-6.9078 * t / rt60)
    tail = lfilter([0.6, 0.4], [1.0], tail)  # walls absorb highs a little
    tail *= np.sqrt(10 ** (-drr_db / 10) / (np.sum(tail**2) + 1e-12))
    h = np.zeros(n)
    h[0] = 1.0
    h[delay:] += tail
    return h


def reverb(
    audio: np.ndarray, sr: int, rt60: float, rng: np.random.Generator, drr_db: float = 3.0
) -> np.ndarray:
    """Convolve with ``room_impulse_response``; same length, direct sound not delayed."""
    x = np.asarray(audio, np.float64)
    y = fftconvolve(x, room_impulse_response(sr, rt60, rng, drr_db))[: len(x)]
    return (y * np.sqrt(np.mean(x**2) / (np.mean(y**2) + 1e-20))).astype(np.float32)


# ---------------------------------------------------------------- EQ and band-limiting


def biquad(kind: str, freq: float, gain_db: float, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ audio-EQ-cookbook biquad: ``peak``, ``lowshelf`` or ``highshelf`` -> (b, a)."""
    a_gain = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * freq / sr
    alpha = np.sin(w0) / (2 * q)
    cos = np.cos(w0)
    if kind == "peak":
        b = [1 + alpha * a_gain, -2 * cos, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos, 1 - alpha / a_gain]
    elif kind in ("lowshelf", "highshelf"):
        sign = 1 if kind == "lowshelf" else -1
        root = 2 * np.sqrt(a_gain) * alpha
        b = [
            a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos + root),
            sign * 2 * a_gain * ((a_gain - 1) - sign * (a_gain + 1) * cos),
            a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos - root),
        ]
        a = [
            (a_gain + 1) + sign * (a_gain - 1) * cos + root,
            -sign * 2 * ((a_gain - 1) + sign * (a_gain + 1) * cos),
            (a_gain + 1) + sign * (a_gain - 1) * cos - root,
        ]
    else:
        raise ValueError(f"unknown biquad {kind!r}")
    b_arr, a_arr = np.asarray(b), np.asarray(a)
    return b_arr / a_arr[0], a_arr / a_arr[0]


def random_eq(
    audio: np.ndarray, sr: int, rng: np.random.Generator, max_gain_db: float = 9.0
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """1-3 random peaking/shelving filters (+-``max_gain_db``); returns audio and the bands."""
    y = np.asarray(audio, np.float64)
    bands = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(["peak", "peak", "lowshelf", "highshelf"]))
        freq = float(np.exp(rng.uniform(np.log(100.0), np.log(min(7000.0, 0.4 * sr)))))
        gain_db = float(rng.uniform(-1, 1) * max_gain_db)
        q = float(rng.uniform(0.5, 2.5)) if kind == "peak" else 0.707
        band = {"kind": kind, "freq": round(freq, 1), "gain_db": round(gain_db, 2), "q": round(q, 3)}
        b, a = biquad(kind, band["freq"], band["gain_db"], band["q"], sr)
        y = lfilter(b, a, y)
        bands.append(band)
    return y.astype(np.float32), bands


def band_limit(audio: np.ndarray, sr: int, kind: str, cutoff: float = 5500.0) -> np.ndarray:
    """Zero-phase band-limiting (timing untouched): ``telephone`` (300-3400 Hz),
    ``lowpass`` (at ``cutoff`` Hz) or ``8k`` (a round trip through 8 kHz)."""
    x = np.asarray(audio, np.float64)
    if kind == "8k":
        y = resample(resample(x.astype(np.float32), sr, 8000), 8000, sr)
        return _fit_length(y, len(x)).astype(np.float32)
    if kind == "telephone":
        sos = butter(4, [300.0, min(3400.0, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    elif kind == "lowpass":
        sos = butter(6, min(cutoff, 0.45 * sr), btype="lowpass", fs=sr, output="sos")
    else:
        raise ValueError(f"unknown band limit {kind!r}; use one of {BAND_KINDS}")
    return sosfiltfilt(sos, x).astype(np.float32)


def gain(audio: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale by ``gain_db`` decibels."""
    return (np.asarray(audio, np.float64) * 10 ** (gain_db / 20)).astype(np.float32)


def limit_peak(audio: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """Finite float32 with |x| <= ``peak`` (scaled down only when louder)."""
    x = np.nan_to_num(np.asarray(audio, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top > peak:
        x *= peak / top
    return x.astype(np.float32)


# ---------------------------------------------------------------- non-speech sounds

BREATH_GAP_S = 0.08
"""Silence kept between an inserted breath or click and the speech on either side."""


def breath(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-RMS inhale or exhale: pink-ish noise through a few vocal-tract-like
    resonances, under a smooth swell.  Synthetic voices never breathe; real ones do."""
    y = colored_noise(n, rng, float(rng.uniform(0.0, 1.0)))
    for freq in (rng.uniform(400, 900), rng.uniform(1000, 2200), rng.uniform(2300, 3800)):
        boost_db, q = float(rng.uniform(6, 15)), float(rng.uniform(1.5, 5))
        b, a = biquad("peak", float(min(freq, 0.45 * sr)), boost_db, q, sr)
        y = lfilter(b, a, y)
    y = sosfiltfilt(butter(2, 150.0, "highpass", fs=sr, output="sos"), y)
    rise = float(rng.uniform(0.2, 0.6))
    t = np.linspace(0.0, 1.0, n)
    env = np.where(t < rise, np.sin(0.5 * np.pi * t / rise), np.cos(0.5 * np.pi * (t - rise) / (1 - rise)))
    return _unit_rms(y * env**2)


def click(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-RMS lip smack or tongue click: a band-passed, fast-decaying transient."""
    t = np.arange(n) / sr
    y = rng.standard_normal(n) * np.exp(-t / rng.uniform(0.002, 0.008))
    b, a = biquad("peak", float(rng.uniform(800, min(4000, 0.45 * sr))), 12.0, 2.0, sr)
    return _unit_rms(lfilter(b, a, y))


def cough(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-RMS cough or throat clear: one to three explosive bursts, each decaying over
    50-200 ms, of turbulence and rough voicing through an open vocal tract."""
    y = np.zeros(n)
    start = 0
    for _ in range(int(rng.integers(1, 4))):
        t = np.arange(n - start) / sr
        env = (1.0 - np.exp(-t / 0.003)) * np.exp(-t / rng.uniform(0.05, 0.2))
        f0 = rng.uniform(90.0, 300.0) * (1.0 + 0.05 * colored_noise(len(t), rng, 2.0))  # a rough pitch
        voice = np.mod(np.cumsum(f0) / sr, 1.0) - 0.5  # a sawtooth: glottal pulses
        mix = float(rng.uniform(0.0, 0.6))
        y[start:] += env * ((1.0 - mix) * colored_noise(len(t), rng, 0.5) + mix * _unit_rms(voice))
        start += int(rng.uniform(0.15, 0.3) * sr)
        if start >= n - int(0.05 * sr):
            break
    for freq in (rng.uniform(500, 900), rng.uniform(1100, 1900), rng.uniform(2300, 3200)):
        b, a = biquad(
            "peak", float(min(freq, 0.45 * sr)), float(rng.uniform(6, 15)), float(rng.uniform(2, 6)), sr
        )
        y = lfilter(b, a, y)
    y = sosfiltfilt(butter(2, 100.0, "highpass", fs=sr, output="sos"), y)
    fade = min(n, int(0.03 * sr))  # a burst cut short by the room still ends smoothly
    y[n - fade :] *= np.cos(0.5 * np.pi * np.arange(fade) / fade) ** 2
    return _unit_rms(y)


def sniff(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-RMS sniff: a sharp nasal inhale, noise high-passed at 1-2.5 kHz under a fast swell."""
    y = colored_noise(n, rng, float(rng.uniform(0.0, 0.5)))
    y = sosfiltfilt(butter(2, float(rng.uniform(1000.0, 2500.0)), "highpass", fs=sr, output="sos"), y)
    rise = float(rng.uniform(0.3, 0.7))
    t = np.linspace(0.0, 1.0, n)
    env = np.where(t < rise, t / rise, np.cos(0.5 * np.pi * (t - rise) / (1 - rise)))
    return _unit_rms(y * env**2)


def _unit_rms(y: np.ndarray) -> np.ndarray:
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def add_breaths(
    audio: np.ndarray,
    sr: int,
    silent: np.ndarray,
    rng: np.random.Generator,
    strength: float = 0.5,
    edge_share: float = 0.0,
    loud_share: float = 0.0,
) -> tuple[np.ndarray, int]:
    """Put breaths and clicks into the pauses of ``audio`` (``silent``: a boolean per sample).

    Each pause long enough for one (after ``BREATH_GAP_S`` on both sides) gets a sound
    with probability ``strength`` / 2: a breath 12-40 dB or a click 10-30 dB under the
    speech level (RMS against ``active_power``).  A share ``edge_share`` of the sounds sit
    at a speech edge instead, 0-``BREATH_GAP_S`` from it: an inhale just before the speech
    that follows, or an exhale or lip smack just after the speech before, as real talkers
    make them.  A share ``loud_share`` of the pauses get a loud vocal noise instead, a cough
    or a sniff 0-12 dB under the speech, as a talker with a cold or a close microphone gives
    them.  Returns (float32 audio, the number of sounds added).  The labels stay silence: a
    mouth at rest.
    """
    s = float(np.clip(strength, 0.0, 1.0))
    mask = np.asarray(silent, bool)
    y = np.asarray(audio, np.float64).copy()
    level = np.sqrt(active_power(y, sr))
    gap = int(BREATH_GAP_S * sr)
    added = 0
    for first, last in zip(*true_runs(mask), strict=True):
        # No draw at share 0, so the chains of earlier phases draw exactly what they drew then.
        if loud_share > 0 and rng.random() < loud_share:
            placed = _loud_sound(first, last, gap, sr, rng, s)
        elif edge_share > 0 and rng.random() < edge_share:
            placed = _edge_sound(first, last, len(mask), sr, rng, s)
        else:
            placed = _inner_sound(first, last, gap, sr, rng, s)
        if placed is None:
            continue
        at, sound, below_db = placed
        y[at : at + len(sound)] += sound * level * 10 ** (-below_db / 20)
        added += 1
    return limit_peak(y), added


def _draw_sound(room: int, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A breath (3 in 4) or a click that fits ``room`` samples, and its level in dB under the speech."""
    if rng.random() < 0.75:
        return _draw_breath(room, sr, rng)
    n = int(min(room, 0.03 * sr))
    return click(n, sr, rng), float(rng.uniform(10.0, 30.0))


def _draw_breath(room: int, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A 0.15-0.7 s breath cut to ``room`` samples, and its level: 12-40 dB under the speech."""
    n = int(min(room, rng.uniform(0.15, 0.7) * sr))
    return breath(n, sr, rng), float(rng.uniform(12.0, 40.0))


def _inner_sound(
    first: int, last: int, gap: int, sr: int, rng: np.random.Generator, strength: float
) -> tuple[int, np.ndarray, float] | None:
    """(start, sound, dB under speech) somewhere in the pause [first, last), ``gap`` clear of
    both ends; None when the pause is too short or the draw says no sound."""
    room = (last - first) - 2 * gap
    if room < int(0.02 * sr) or rng.random() >= 0.5 * strength:
        return None
    sound, below_db = _draw_sound(room, sr, rng)
    return first + gap + int(rng.integers(0, room - len(sound) + 1)), sound, below_db


def _loud_sound(
    first: int, last: int, gap: int, sr: int, rng: np.random.Generator, strength: float
) -> tuple[int, np.ndarray, float] | None:
    """(start, sound, dB under speech): a 0.1-0.5 s cough (3 in 5) or sniff, 0-12 dB under
    the speech, in the pause [first, last) half of ``gap`` clear of both ends (a loud sound
    needs a longer pause than a breath, so it may come closer); None when the pause has no
    room for 0.1 s or the draw says no sound."""
    margin = gap // 2
    room = (last - first) - 2 * margin
    if room < int(0.1 * sr) or rng.random() >= 0.5 * strength:
        return None
    n = int(min(room, rng.uniform(0.1, 0.5) * sr))
    sound = cough(n, sr, rng) if rng.random() < 0.6 else sniff(n, sr, rng)
    return first + margin + int(rng.integers(0, room - n + 1)), sound, float(rng.uniform(0.0, 12.0))


def _edge_sound(
    first: int, last: int, total: int, sr: int, rng: np.random.Generator, strength: float
) -> tuple[int, np.ndarray, float] | None:
    """(start, sound, dB under speech) against a speech edge of the pause [first, last) in a
    signal of ``total`` samples: an inhale ending just before the speech after it, or a sound
    starting just after the speech before it; None when neither edge borders speech, the
    pause is too short, or the draw says no sound."""
    edges = [edge for edge, borders in (("before", last < total), ("after", first > 0)) if borders]
    if not edges or rng.random() >= 0.5 * strength:
        return None
    gap = int(rng.uniform(0.0, BREATH_GAP_S) * sr)
    room = (last - first) - gap
    if room < int(0.02 * sr):
        return None
    side = edges[int(rng.integers(len(edges)))]
    if side == "before":  # an inhale: a click does not lead into speech
        sound, below_db = _draw_breath(room, sr, rng)
        return last - gap - len(sound), sound, below_db
    sound, below_db = _draw_sound(room, sr, rng)
    return first + gap, sound, below_db


# ---------------------------------------------------------------- random chain


def random_chain(
    audio: np.ndarray, sr: int, phones: list[Phone], rng: np.random.Generator, strength: float = 0.5
) -> tuple[np.ndarray, list[Phone], dict[str, Any]]:
    """Apply a random subset of speed, reverb, EQ, band-limit, noise and gain.

    ``strength`` (0-1) raises both how often each step runs and how far it goes.
    Returns (float32 audio at ``sr``, phones matching it, JSON-serialisable params).
    WORLD is not part of the chain: analyse once and call ``world_variants`` first.
    """
    s = float(np.clip(strength, 0.0, 1.0))
    y = np.asarray(audio, np.float32)
    params: dict[str, Any] = {"strength": s}
    factor = draw_speed(rng, s)
    if factor is not None:
        factor = round(factor, 2)
        y, phones = speed_perturb(y, sr, phones, factor)
        params["speed"] = factor
    y, channel = channel_chain(y, sr, rng, s)
    return y, phones, {**params, **channel}


def draw_speed(rng: np.random.Generator, strength: float) -> float | None:
    """The chain's speed step: a factor within +-15 % x ``strength``, drawn with probability
    ``strength`` / 2; None when this draw keeps the speed."""
    if rng.random() < 0.5 * strength:
        return float(rng.uniform(1 - 0.15 * strength, 1 + 0.15 * strength))
    return None


def channel_chain(
    audio: np.ndarray, sr: int, rng: np.random.Generator, strength: float = 0.5
) -> tuple[np.ndarray, dict[str, Any]]:
    """The timing-neutral part of ``random_chain``: reverb, EQ, band-limit, noise and gain.

    Returns (float32 audio, never clipping, same length; JSON-serialisable params).
    """
    s = float(np.clip(strength, 0.0, 1.0))
    y = np.asarray(audio, np.float32)
    params: dict[str, Any] = {}
    if rng.random() < 0.35 * s:
        rt60, drr = float(rng.uniform(0.1, 0.1 + 0.7 * s)), float(rng.uniform(-2.0, 10.0))
        y = reverb(y, sr, rt60, rng, drr)
        params["reverb"] = {"rt60": round(rt60, 3), "drr_db": round(drr, 2)}
    if rng.random() < 0.5 * s:
        y, bands = random_eq(y, sr, rng, max_gain_db=3 + 9 * s)
        params["eq"] = bands
    if rng.random() < 0.25 * s:
        kind = str(rng.choice(list(BAND_KINDS)))
        cutoff = float(rng.uniform(4000.0, 7000.0))
        y = band_limit(y, sr, kind, cutoff)
        params["band"] = {"kind": kind, **({"cutoff": round(cutoff, 1)} if kind == "lowpass" else {})}
    if rng.random() < 0.6 * s:
        kind = str(rng.choice(list(NOISE_KINDS)))
        snr = float(rng.uniform(40.0 - 35.0 * s, 40.0))
        y = add_noise(y, sr, snr, kind, rng)
        params["noise"] = {"kind": kind, "snr_db": round(snr, 2)}
    gain_db = float(rng.uniform(-12.0 * s, 6.0 * s))
    y = gain(y, gain_db)
    params["gain_db"] = round(gain_db, 2)
    return limit_peak(y), params

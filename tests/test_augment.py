"""Augmentation: timing-neutral transforms keep timing, speed scales labels, levels are exact."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import lfilter

from blender_lipsync.core.dsp import true_runs
from lipsync_train import augment
from lipsync_train.phonemes import Phone

SR = 22050


def vowel_like(sr: int = SR, f0: float = 120.0, seconds: float = 1.2) -> np.ndarray:
    """Pulse train with a gently moving F0 through three formant resonators, in syllables."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / sr
    source = (np.diff(np.floor(phase / (2 * np.pi)), prepend=0) > 0).astype(np.float64)
    y = source
    for freq, bw in ((700, 80), (1200, 90), (2600, 120)):
        r = np.exp(-np.pi * bw / sr)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * freq / sr), r * r], y)
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 0.5  # syllables with gaps
    y = y * envelope
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def median_f0(x: np.ndarray, sr: int) -> float:
    import pyworld as pw

    f0, _ = pw.dio(x.astype(np.float64), sr, f0_floor=60.0, f0_ceil=600.0)
    return float(np.median(f0[f0 > 0]))


def phones_for(duration: float) -> list[Phone]:
    cuts = np.linspace(0, duration, 7)
    labels = ["_", "b", "a", "m", "a", "_"]
    return [Phone(lab, float(a), float(b)) for lab, a, b in zip(labels, cuts, cuts[1:], strict=False)]


def test_world_keeps_length_and_scales_f0():
    x = vowel_like()
    analysis = augment.world_analyze(x, SR)
    assert analysis.sr == 16000 and analysis.n_samples == round(len(x) * 16000 / SR)
    base = median_f0(augment.resample(x, SR, 16000), 16000)
    settings = [(1.5, 1.0), (0.7, 1.1), (1.2, 0.88)]
    for (scale, _), y in zip(settings, augment.world_variants(analysis, settings), strict=True):
        assert y.dtype == np.float32 and len(y) == analysis.n_samples
        assert np.isfinite(y).all() and np.abs(y).max() <= augment.PEAK
        assert median_f0(y, 16000) / base == pytest.approx(scale, rel=0.10)


def test_speed_perturb_scales_labels_and_duration():
    x = vowel_like()
    phones = phones_for(len(x) / SR)
    for factor in (0.9, 1.07, 1.15):
        y, moved = augment.speed_perturb(x, SR, phones, factor)
        assert len(y) == pytest.approx(len(x) / factor, abs=2)
        assert moved[-1].end == pytest.approx(len(y) / SR, abs=1e-9)
        for old, new in zip(phones, moved, strict=True):
            assert new.label == old.label
            assert new.start == pytest.approx(old.start / factor, abs=1e-4)
        # the signal itself moved with the labels: the envelope peak follows
        env_x, env_y = np.abs(x).argmax() / SR, np.abs(y).argmax() / SR
        assert env_y == pytest.approx(env_x / factor, abs=0.01)


@pytest.mark.parametrize("kind", augment.NOISE_KINDS)
def test_noise_hits_snr(kind):
    t = np.arange(SR * 2) / SR
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # stationary: every frame active
    for snr in (0.0, 10.0, 25.0):
        y = augment.add_noise(x, SR, snr, kind, np.random.default_rng(1))
        noise = y.astype(np.float64) - x
        measured = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(noise**2))
        assert measured == pytest.approx(snr, abs=1.0)


def test_rumble_sits_below_15_hz_at_the_asked_level():
    t = np.arange(SR * 3) / SR
    x = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    y = augment.add_rumble(x, SR, 10.0, np.random.default_rng(2))
    rumble = y.astype(np.float64) - x
    assert y.dtype == np.float32 and y.shape == x.shape
    assert 10 * np.log10(np.mean(rumble**2) / np.mean(x.astype(np.float64) ** 2)) == pytest.approx(
        10.0, abs=0.1
    )
    spectrum = np.abs(np.fft.rfft(rumble)) ** 2
    freqs = np.fft.rfftfreq(len(rumble), 1 / SR)
    assert spectrum[freqs <= 16].sum() > 0.99 * spectrum.sum()
    assert abs(rumble.mean()) > 0.01  # a DC offset is part of it


def test_reverb_keeps_onset_and_length():
    rng = np.random.default_rng(3)
    x = np.zeros(SR, np.float32)
    x[int(0.3 * SR) : int(0.5 * SR)] = vowel_like(seconds=0.2)  # onset at 300 ms
    for rt60 in (0.1, 0.4, 0.8):
        y = augment.reverb(x, SR, rt60, rng)
        assert len(y) == len(x) and np.isfinite(y).all()
        lags = np.arange(-int(0.05 * SR), int(0.05 * SR) + 1)
        xc = [np.dot(x[max(0, -k) : len(x) - max(0, k)], y[max(0, k) : len(y) - max(0, -k)]) for k in lags]
        assert abs(lags[int(np.argmax(xc))]) <= int(0.002 * SR)
        assert np.abs(y[: int(0.3 * SR)]).max() < 1e-6  # nothing before the direct sound


def test_band_limits_and_eq_keep_length():
    rng = np.random.default_rng(4)
    white = rng.standard_normal(SR).astype(np.float32) * 0.1
    for kind in augment.BAND_KINDS:
        y = augment.band_limit(white, SR, kind, cutoff=5000.0)
        assert len(y) == len(white) and np.isfinite(y).all()
        spectrum = np.abs(np.fft.rfft(y)) ** 2
        freqs = np.fft.rfftfreq(len(y), 1 / SR)
        assert spectrum[freqs > 7000].sum() < 0.01 * spectrum.sum()
    phone = augment.band_limit(white, SR, "telephone")
    spectrum, freqs = np.abs(np.fft.rfft(phone)) ** 2, np.fft.rfftfreq(len(phone), 1 / SR)
    assert spectrum[freqs < 150].sum() < 0.01 * spectrum.sum()
    y, bands = augment.random_eq(white, SR, rng)
    assert len(y) == len(white) and 1 <= len(bands) <= 3 and np.isfinite(y).all()


def test_random_chain_is_safe_and_deterministic():
    x = vowel_like()
    phones = phones_for(len(x) / SR)
    for seed in range(12):
        a, pa, params = augment.random_chain(x, SR, phones, np.random.default_rng(seed), strength=1.0)
        b, pb, params_b = augment.random_chain(x, SR, phones, np.random.default_rng(seed), strength=1.0)
        assert np.array_equal(a, b) and pa == pb and params == params_b
        assert a.dtype == np.float32 and np.isfinite(a).all() and np.abs(a).max() <= augment.PEAK
        assert pa[0].start == 0 and pa[-1].end == pytest.approx(len(a) / SR, abs=1e-6)
        json.dumps(params)
    loud = augment.random_chain(x * 50, SR, phones, np.random.default_rng(0), strength=0.0)[0]
    assert np.abs(loud).max() <= augment.PEAK


def test_channel_chain_keeps_length_and_changes_the_sound():
    x = vowel_like()
    changed = 0
    for seed in range(12):
        y, params = augment.channel_chain(x, SR, np.random.default_rng(seed), strength=1.0)
        assert len(y) == len(x) and y.dtype == np.float32 and np.abs(y).max() <= augment.PEAK
        assert "speed" not in params and "gain_db" in params
        json.dumps(params)
        changed += any(k in params for k in ("reverb", "eq", "band", "noise"))
    assert changed >= 8  # at full strength most chains do more than a gain


def two_phrases(sr: int, pause_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Speech, pause, speech, pause: (speech, pause, audio, silent mask, speech level)."""
    speech = vowel_like(sr, seconds=1.0)
    pause = np.zeros(int(pause_s * sr), np.float32)
    x = np.concatenate([speech, pause, speech, pause])
    silent = np.concatenate([np.zeros(len(speech)), np.ones(len(pause))] * 2).astype(bool)
    return speech, pause, x, silent, float(np.sqrt(augment.active_power(x, sr)))


def test_breaths_go_only_into_pauses_at_the_drawn_level():
    sr = 16000
    speech, pause, x, silent, level = two_phrases(sr, 0.8)
    gap = int(augment.BREATH_GAP_S * sr)
    total = 0
    for seed in range(20):
        y, added = augment.add_breaths(x, sr, silent, np.random.default_rng(seed), strength=1.0)
        assert len(y) == len(x) and y.dtype == np.float32
        assert np.array_equal(y[~silent], x[~silent])  # speech untouched
        for first in (len(speech), 2 * len(speech) + len(pause)):  # the guard gaps stay silent
            last = first + len(pause)
            assert not y[first : first + gap].any() and not y[last - gap : last].any()
        sound = y[silent]
        if added:
            rms = np.sqrt(np.mean(sound[np.abs(sound) > 0] ** 2))
            assert level * 10 ** (-45 / 20) < rms < level * 10 ** (-8 / 20)
        total += added
    assert 10 <= total <= 30  # about half of the 40 pauses
    y, added = augment.add_breaths(x, sr, silent, np.random.default_rng(0), strength=0.0)
    assert added == 0 and np.array_equal(y, x)


def test_pause_sounds_are_unit_rms_and_shaped():
    rng = np.random.default_rng(3)
    b = augment.breath(8000, 16000, rng)
    c = augment.click(480, 16000, rng)
    k = augment.cough(8000, 16000, rng)
    s = augment.sniff(4800, 16000, rng)
    for sound in (b, c, k, s):
        assert np.sqrt(np.mean(sound**2)) == pytest.approx(1.0, rel=1e-6)
    assert np.abs(b[:80]).max() < 0.2 * np.abs(b).max()  # swells in, no step at the start
    assert np.abs(c[:48]).max() > 5 * np.abs(c[-48:]).max()  # a click decays fast
    assert np.sqrt(np.mean(k[:160] ** 2)) > 0.5  # a cough bursts out at once (a breath: under 0.03)
    assert np.abs(s[:160]).max() < 0.2 * np.abs(s).max()  # a sniff swells in
    for sound in (k, s):
        assert np.abs(sound[-16:]).max() < 0.1 * np.abs(sound).max()  # and both end smoothly
    assert np.argmax(np.abs(np.fft.rfft(s))) > 1000 * len(s) / 16000  # through the nose: no low end


def test_loud_sounds_go_into_the_pauses_near_the_speech_level():
    sr = 16000
    _, _, x, silent, level = two_phrases(sr, 0.5)
    total = 0
    for seed in range(20):
        y, added = augment.add_breaths(
            x, sr, silent, np.random.default_rng(seed), strength=1.0, loud_share=1.0
        )
        assert np.array_equal(y[~silent], x[~silent])  # speech untouched
        for first, last in zip(*true_runs(y != x), strict=True):
            assert 0.1 * sr - 1 <= last - first <= 0.5 * sr + 1
            rms = np.sqrt(np.mean(y[first:last].astype(np.float64) ** 2))
            assert level * 10 ** (-13 / 20) < rms < level * 10 ** (1 / 20)  # 0-12 dB under the speech
        total += added
    assert 10 <= total <= 30  # about half of the 40 pauses


def test_edge_breaths_sit_against_the_speech():
    """An inhale right before the phrase, an exhale or lip smack right after: within
    ``BREATH_GAP_S`` of the speech, never on it."""
    sr = 16000
    speech = vowel_like(sr, seconds=1.0)
    pause = np.zeros(int(0.8 * sr), np.float32)
    x = np.concatenate([pause, speech, pause, speech, pause])
    silent = np.ones(len(x), bool)
    silent[len(pause) : len(pause) + len(speech)] = False
    silent[2 * len(pause) + len(speech) : 2 * len(pause) + 2 * len(speech)] = False
    speech_edges = np.array(
        [len(pause), len(pause) + len(speech), 2 * len(pause) + len(speech), len(x) - len(pause)]
    )
    gap = int(augment.BREATH_GAP_S * sr)
    total = 0
    for seed in range(20):
        y, added = augment.add_breaths(
            x, sr, silent, np.random.default_rng(seed), strength=1.0, edge_share=1.0
        )
        assert np.array_equal(y[~silent], x[~silent])  # speech untouched
        sound = np.nonzero(y != x)[0]
        # each sound touches the 0-80 ms next to an edge
        for first, last in zip(*true_runs(y != x), strict=True):
            assert np.min(np.minimum(np.abs(speech_edges - first), np.abs(speech_edges - last))) <= gap + 1
        assert (len(sound) > 0) == (added > 0)
        total += added
    assert 18 <= total <= 42  # about half of the 3 pauses x 20 draws; each borders speech

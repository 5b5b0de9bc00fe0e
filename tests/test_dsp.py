"""The numpy-only DSP and WAV reading match scipy and soundfile, and the core imports neither."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from blender_lipsync.core import dsp
from blender_lipsync.core.audio import read_wav

ROOT = Path(__file__).resolve().parents[1]
RATE_PAIRS = [  # (rate in, rate out): the usual file rates into the model's 16 kHz, then odd ones
    (44100, 16000),
    (48000, 16000),
    (8000, 16000),
    (22050, 16000),
    (11025, 16000),
    (16000, 44100),
    (44100, 48000),
    (3, 2),
    (16001, 16000),  # 16000 phases: the gathering path instead of the per-phase loop
]


def _signals(rate: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = max(7, 3 * rate)  # 3 s at file rates: several output blocks
    t = np.arange(n) / rate
    return {
        "noise": rng.standard_normal(n),
        "sine": np.sin(2 * np.pi * 440.0 * t) + 0.5 * np.sin(2 * np.pi * 5000.0 * t + 0.3),
        "short": rng.standard_normal(5),
        "one": np.array([0.7]),
    }


@pytest.mark.parametrize(("rate_in", "rate_out"), RATE_PAIRS)
def test_resample_poly_matches_scipy(rate_in: int, rate_out: int) -> None:
    rng = np.random.default_rng(rate_in + rate_out)
    for name, x in _signals(rate_in, rng).items():
        want = scipy.signal.resample_poly(x, rate_out, rate_in)
        got = dsp.resample_poly(x, rate_out, rate_in)
        assert got.shape == want.shape, name
        assert got.dtype == np.float64
        assert np.abs(got - want).max() <= 1e-5, name


def test_resample_poly_small_ratios_all_lengths() -> None:
    rng = np.random.default_rng(0)
    for up, down in [(1, 1), (2, 1), (1, 2), (2, 3), (7, 5), (5, 7), (1, 13), (13, 1), (6, 4)]:
        for n in (1, 2, 3, 10, 61, 200):
            x = rng.standard_normal(n)
            want = scipy.signal.resample_poly(x, up, down)
            got = dsp.resample_poly(x, up, down)
            assert got.shape == want.shape, (up, down, n)
            assert np.abs(got - want).max() <= 1e-10, (up, down, n)


def test_resample_poly_float32_and_errors() -> None:
    x = np.random.default_rng(1).standard_normal(44100).astype(np.float32)
    got = dsp.resample_poly(x, 160, 441)
    assert got.dtype == np.float32
    assert np.abs(got - scipy.signal.resample_poly(x.astype(np.float64), 160, 441)).max() <= 1e-5
    assert dsp.resample_poly(np.zeros(0), 160, 441).shape == (0,)
    with pytest.raises(ValueError, match="1-D"):
        dsp.resample_poly(np.zeros((4, 2)), 1, 2)
    with pytest.raises(ValueError, match=">= 1"):
        dsp.resample_poly(np.zeros(4), 0, 2)


def test_resample_poly_memory_is_bounded() -> None:
    x = np.random.default_rng(2).standard_normal(44100 * 120).astype(np.float32)  # 2 min, 21 MB
    tracemalloc.start()
    try:
        y = dsp.resample_poly(x, 160, 441)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - y.nbytes < 40e6  # scratch does not grow with the length (an hour needs the same)


def test_lowpass_kaiser_matches_firwin() -> None:
    for taps, cutoff in [(61, 1 / 3), (8821, 1 / 441), (41, 1 / 2), (101, 0.25)]:
        want = scipy.signal.firwin(taps, cutoff, window=("kaiser", 5.0))
        assert np.abs(dsp.lowpass_kaiser(taps, cutoff) - want).max() <= 1e-12


@pytest.mark.parametrize("window", [3, 5, 7, 9, 11, 15, 31, 4, 8])
def test_savgol_filter_matches_scipy(window: int) -> None:
    rng = np.random.default_rng(window)
    for order in range(min(window, 5)):
        for n in (window, window + 1, 200):
            one = np.cumsum(rng.standard_normal(n))
            two = rng.standard_normal((n, 4))
            for x in (one, two):
                want = scipy.signal.savgol_filter(x, window, order, axis=0, mode="interp")
                got = dsp.savgol_filter(x, window, order, axis=0)
                assert got.shape == want.shape
                assert np.abs(got - want).max() <= 1e-9, (window, order, n, x.ndim)
    x = rng.standard_normal((3, 50))
    want = scipy.signal.savgol_filter(x, window, 2, axis=1, mode="interp")
    assert np.abs(dsp.savgol_filter(x, window, 2, axis=1) - want).max() <= 1e-9


def test_savgol_filter_dtype_and_errors() -> None:
    x = np.random.default_rng(3).random((40, 2)).astype(np.float32)
    got = dsp.savgol_filter(x, 7, 2)
    assert got.dtype == np.float32
    assert np.abs(got - scipy.signal.savgol_filter(x.astype(np.float64), 7, 2, axis=0)).max() <= 1e-6
    with pytest.raises(ValueError, match="polyorder"):
        dsp.savgol_filter(x, 3, 3)
    with pytest.raises(ValueError, match="window_length"):
        dsp.savgol_filter(x, 41, 2)


def _write_wav(path: Path, samples: np.ndarray, rate: int, width: int) -> None:
    """Integer samples (frames, channels) at full scale for ``width`` bytes, written with ``wave``."""
    if width == 1:
        raw = (samples + 128).astype(np.uint8).tobytes()
    elif width == 3:
        raw = samples.astype("<i4").reshape(-1, 1).view(np.uint8)[:, :3].tobytes()
    else:
        raw = samples.astype("<i2" if width == 2 else "<i4").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(raw)


def _test_signal(rate: int, channels: int, width: int, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    wave_ = np.stack([0.8 * np.sin(2 * np.pi * (220.0 + 110 * c) * t) for c in range(channels)], axis=1)
    full = 2 ** (8 * width - 1) - 1
    return np.round(wave_ * full).astype(np.int64)


@pytest.mark.parametrize(("width", "channels"), [(1, 1), (2, 1), (2, 2), (3, 2), (4, 3)])
def test_read_wav_matches_soundfile(tmp_path: Path, width: int, channels: int) -> None:
    path = tmp_path / "x.wav"
    _write_wav(path, _test_signal(22050, channels, width), 22050, width)
    got, rate = read_wav(path)
    want, want_rate = sf.read(str(path), dtype="float32", always_2d=False)
    assert rate == want_rate == 22050
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-6


NO_SCIPY_SCRIPT = """
import json, sys
sys.modules["scipy"] = None  # any import of these now raises ImportError
sys.modules["soundfile"] = None
import numpy as np
import blender_lipsync.core.audio as audio
import blender_lipsync.core.contract, blender_lipsync.core.dsp, blender_lipsync.core.inference
import blender_lipsync.core.onnx_backend, blender_lipsync.core.style
out = sys.argv[1]
for name in ("s16", "s24"):
    np.save(f"{out}/{name}_raw.npy", audio.read_wav(__import__("pathlib").Path(f"{out}/{name}.wav"))[0])
    np.save(f"{out}/{name}_16k.npy", audio.load_audio(f"{out}/{name}.wav"))
try:
    audio.load_audio(f"{out}/x.flac")
    flac = "no error"
except audio.AudioError as exc:
    flac = str(exc)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "soundfile") and sys.modules[m])
print(json.dumps({"flac": flac, "loaded": loaded}))
"""


def test_core_runs_without_scipy_or_soundfile(tmp_path: Path) -> None:
    for name, width in (("s16", 2), ("s24", 3)):
        _write_wav(tmp_path / f"{name}.wav", _test_signal(44100, 2, width, seconds=1.3), 44100, width)
    sf.write(str(tmp_path / "x.flac"), np.zeros(1000, dtype=np.float32), 44100)
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NO_SCIPY_SCRIPT), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert "x.flac" in report["flac"] and "WAV" in report["flac"] and "install soundfile" in report["flac"]

    for name in ("s16", "s24"):
        want, rate = sf.read(str(tmp_path / f"{name}.wav"), dtype="float32", always_2d=False)
        assert rate == 44100 and want.shape == (int(44100 * 1.3), 2)
        raw = np.load(tmp_path / f"{name}_raw.npy")
        assert raw.shape == want.shape and np.abs(raw - want).max() <= 1e-4
        # What the scipy + soundfile implementation produced before: mono, then resample_poly.
        before = scipy.signal.resample_poly(want.mean(axis=1), 160, 441).astype(np.float32)
        got = np.load(tmp_path / f"{name}_16k.npy")
        assert got.dtype == np.float32 and got.shape == before.shape
        assert np.abs(got - before).max() <= 1e-4


@pytest.mark.parametrize(
    ("mask", "starts", "stops"),
    [
        ([0, 1, 1, 0, 0, 1, 0], [1, 5], [3, 6]),
        ([1, 1, 0, 1], [0, 3], [2, 4]),  # runs touching both ends
        ([0, 0, 0], [], []),
        ([], [], []),
    ],
)
def test_true_runs_finds_every_run_with_exclusive_stops(
    mask: list[int], starts: list[int], stops: list[int]
) -> None:
    got_starts, got_stops = dsp.true_runs(np.array(mask, bool))
    assert got_starts.tolist() == starts and got_stops.tolist() == stops

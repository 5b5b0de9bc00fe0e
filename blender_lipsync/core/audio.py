"""Audio in: any file soundfile reads, or an array at any rate -> mono float32 at 16 kHz."""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

MODEL_SAMPLE_RATE = 16000


class AudioError(ValueError):
    """Audio that cannot be used, with a message that says what to do."""


def to_mono_float(audio: np.ndarray) -> np.ndarray:
    """(samples,) or (samples, channels) of any numeric dtype -> mono float32 in [-1, 1]."""
    x = np.asarray(audio)
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    x = x.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    elif x.ndim != 1:
        raise AudioError(f"audio must be (samples,) or (samples, channels), got shape {x.shape}")
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (band-limited, no phase shift) between integer rates."""
    from scipy.signal import resample_poly

    if sr_in == sr_out:
        return np.asarray(audio, dtype=np.float32)
    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(audio, int(sr_out) // g, int(sr_in) // g).astype(np.float32)


def load_audio(source: str | Path | np.ndarray, sample_rate: int | None = None) -> np.ndarray:
    """A path (wav, flac, ogg, mp3, ...) or an array + its rate -> mono float32 at 16 kHz."""
    if isinstance(source, (str, Path)):
        import soundfile as sf

        path = Path(source)
        if not path.is_file():
            raise AudioError(f"audio file not found: {path}")
        try:
            data, sample_rate = sf.read(str(path), dtype="float32", always_2d=False)
        except Exception as exc:  # soundfile raises its own error types per format
            raise AudioError(f"cannot read {path.name}: {exc}. Use WAV, FLAC, OGG or MP3.") from exc
    else:
        if sample_rate is None:
            raise AudioError("an audio array needs its sample_rate")
        data = source
    mono = to_mono_float(data)
    return resample(mono, int(sample_rate), MODEL_SAMPLE_RATE)

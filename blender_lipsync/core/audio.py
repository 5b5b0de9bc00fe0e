"""Audio in: a file, or an array at any rate -> mono float32 at 16 kHz.

Files are read with soundfile where it is installed (WAV, FLAC, OGG, MP3, ...). Blender
does not bundle it, so without it PCM WAV files are read with the stdlib ``wave`` module
and other formats are refused with a message that says what to do.
"""

from __future__ import annotations

import wave
from math import gcd
from pathlib import Path

import numpy as np

from .dsp import resample_poly

MODEL_SAMPLE_RATE = 16000
_WAV_CHUNK_FRAMES = 1 << 20  # frames decoded at a time, so the raw bytes never all sit in memory


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
    if sr_in == sr_out:
        return np.asarray(audio, dtype=np.float32)
    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(np.asarray(audio), int(sr_out) // g, int(sr_in) // g).astype(np.float32, copy=False)


def _is_wav(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(12)
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A PCM WAV (8, 16, 24 or 32 bit, any channels) -> (float32 samples, rate), like soundfile.

    Samples are scaled as soundfile scales them (divided by 2 ** (bits - 1)); the shape is
    (frames,) for mono and (frames, channels) otherwise.
    """
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.getnframes()
        if width not in (1, 2, 3, 4):
            raise wave.Error(f"{8 * width}-bit samples are not supported")
        out = np.empty(frames * channels, dtype=np.float32)
        done = 0
        while done < out.size:
            raw = np.frombuffer(wav.readframes(_WAV_CHUNK_FRAMES), dtype=np.uint8)
            if raw.size == 0:
                break  # header promised more frames than the file holds: keep what is there
            if width == 1:  # 8-bit WAV is unsigned, centred on 128
                values = (raw.astype(np.float32) - 128.0) / 128.0
            elif width == 3:  # no 24-bit dtype: put each sample in the top 3 bytes of an int32
                wide = np.zeros((raw.size // 3, 4), dtype=np.uint8)
                wide[:, 1:] = raw[: wide.shape[0] * 3].reshape(-1, 3)
                values = wide.view("<i4").ravel() / np.float32(2.0**31)
            else:
                values = raw.view("<i2" if width == 2 else "<i4") / np.float32(2.0 ** (8 * width - 1))
            out[done : done + values.size] = values
            done += values.size
    out = out[: done - done % channels]
    return (out if channels == 1 else out.reshape(-1, channels)), rate


def load_audio(source: str | Path | np.ndarray, sample_rate: int | None = None) -> np.ndarray:
    """A path (wav, flac, ogg, mp3, ...) or an array + its rate -> mono float32 at 16 kHz."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"audio file not found: {path}")
        try:
            import soundfile as sf
        except ImportError:  # inside Blender: stdlib WAV reader only
            sf = None
        if sf is not None:
            try:
                data, sample_rate = sf.read(str(path), dtype="float32", always_2d=False)
            except Exception as exc:  # soundfile raises its own error types per format
                raise AudioError(f"cannot read {path.name}: {exc}. Use WAV, FLAC, OGG or MP3.") from exc
        elif not _is_wav(path):
            raise AudioError(
                f"cannot read {path.name}: without the soundfile package only WAV files can be read. "
                "Convert it to WAV (PCM), or install soundfile."
            )
        else:
            try:
                data, sample_rate = read_wav(path)
            except (wave.Error, EOFError, OSError, ValueError) as exc:
                raise AudioError(
                    f"cannot read {path.name}: {exc}. Without the soundfile package only PCM WAV "
                    "(8, 16, 24 or 32 bit) can be read: convert it to 16-bit PCM WAV, or install soundfile."
                ) from exc
    else:
        if sample_rate is None:
            raise AudioError("an audio array needs its sample_rate")
        data = source
    mono = to_mono_float(data)
    return resample(mono, int(sample_rate), MODEL_SAMPLE_RATE)

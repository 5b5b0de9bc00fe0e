"""Audio in, mouth curves out: the bpy-free inference API.

    lipsync = LipSync(TorchBackend.from_folder("models/lipsync"))
    curves = lipsync.curves("vo.wav", fps=23.976, style=Style(jaw=1.3), post=PostProcess(smoothing_ms=80))

Any audio (path or array, any rate, channels, length) becomes mono 16 kHz. The encoder
runs in overlapping chunks, so memory stays bounded for hour-long files, and its
features are cached by audio hash: changing the style or the smoothing re-runs only
the decoder. The 50 Hz model output gets its lip seals and vowel parting, its viseme
probabilities freed of the training's class weights, is resampled
to the exact frame instants of the requested fps (shifted by the anticipation),
smoothed with a Savitzky-Golay filter whose window is given in milliseconds, and
clipped to the channel contract.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .audio import MODEL_SAMPLE_RATE, load_audio
from .contract import (
    CLOSED_LIPS_APERTURE,
    HOP,
    MODEL_FPS,
    MOUTH_CHANNELS,
    VISEME_LOSS_WEIGHTS,
    VISEMES,
    VOWEL_VISEMES,
    Curves,
    frame_count,
    lip_aperture,
    lips_closed,
    parted,
    sealed,
)
from .dsp import savgol_filter, true_runs
from .style import Style

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


class ModelFileError(RuntimeError):
    """The model folder is missing, unsafe, corrupt or does not match its config."""


_PACKAGE = Path(__file__).resolve().parents[1]
MODEL_DIRS = (_PACKAGE / "model", _PACKAGE.parent / "models" / "lipsync")
"""Where the model is: inside the extension zip, or in a source checkout's ``models/lipsync``."""
MODEL_ENV = "BLENDER_LIPSYNC_MODEL"
"""A model folder to use instead of the shipped one (pipelines with their own model)."""


def default_model_folder(candidates: tuple[Path, ...] = MODEL_DIRS) -> Path:
    """``$BLENDER_LIPSYNC_MODEL``, else the first candidate holding a model; ModelFileError if none."""
    override = os.environ.get(MODEL_ENV)
    for folder in (Path(override),) if override else candidates:
        if (folder / CONFIG_FILE).is_file():
            return folder
    where = override or ", ".join(str(d) for d in candidates)
    raise ModelFileError(f"no lip-sync model found (looked in {where}): reinstall the extension.")


SEAL_THRESHOLD = 0.25
"""Default :attr:`PostProcess.seal_threshold`, chosen on held-out synthetic voices
(MODEL_CARD.md, "Lip seals"): the lowest value at which their false closures did not rise,
under the resampler before rule V."""

VOWEL_OPEN_THRESHOLD = 0.9
"""Default :attr:`PostProcess.vowel_open_threshold`, chosen on held-out synthetic voices
(MODEL_CARD.md, "Parted vowels"): the setting whose bilabial recall stays within 0.005."""

SEAL_REACH_S = 0.04
"""How far (either way) a p/b/m probability peak looks for the most closed pose to seal."""


@dataclass(frozen=True)
class PostProcess:
    """What happens after the network: lip seals, vowel parting, timing and smoothing, all cheap
    to change."""

    smoothing_ms: float = 60.0  # Savitzky-Golay window; 0 disables smoothing
    smoothing_order: int = 2
    anticipation_ms: float = 0.0  # positive: the mouth moves this much before the sound
    seal_threshold: float = SEAL_THRESHOLD  # seal the lips where P(p/b/m) peaks at least this; 1 = off
    vowel_open_threshold: float = VOWEL_OPEN_THRESHOLD  # part shut lips where P(vowel) >= this; 1 = off

    def __post_init__(self) -> None:
        for field in ("seal_threshold", "vowel_open_threshold"):
            value = getattr(self, field)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{field.replace('_', ' ')} must be within 0..1, got {value}")


Progress = Callable[[float], None]
"""Called with the fraction done (0..1); may raise to cancel."""


class Backend(Protocol):
    """A runtime for the network (torch here; onnxruntime for Blender)."""

    name: str
    viseme_loss_weights: Mapping[str, float]  # the model config's: what post_process divides out

    def encode(self, audio: np.ndarray) -> np.ndarray:
        """(samples,) 16 kHz -> (samples // 320, features): all the network computes before the
        style first acts (the encoder and the decoder's style-free first layer)."""

    def decode(self, features: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(frames, features), (style_dim,) -> channels (frames, C) in [0, 1], viseme probabilities."""


class TorchBackend:
    """Runs ``blender_lipsync.core.model.LipSyncModel`` with torch (CPU or GPU)."""

    def __init__(self, model, device: str | None = None) -> None:
        import torch

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()
        self.name = f"torch:{self.device}"
        self.viseme_loss_weights = dict(model.cfg.viseme_loss_weights)

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | None = None) -> TorchBackend:
        from .model import LipSyncModel

        config, weights = load_model_folder(folder)
        model = LipSyncModel(config)
        try:
            missing, unexpected = model.load_state_dict(weights, strict=False)
            problem = (
                f"missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]}"
                if missing or unexpected
                else ""
            )
        except RuntimeError as exc:  # same names, other shapes
            problem = str(exc).splitlines()[-1].strip()
        if problem:
            raise ModelFileError(
                f"{Path(folder) / WEIGHTS_FILE} does not match {CONFIG_FILE}: {problem}. "
                "Re-export the model or restore the matching config."
            )
        return cls(model, device)

    def encode(self, audio: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            x = self.torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None].to(self.device)
            return self.model.style_free(x)[0].float().cpu().numpy()

    def decode(self, features: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self.torch.no_grad():
            f = self.torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))[None].to(self.device)
            s = self.torch.from_numpy(np.asarray(style, dtype=np.float32))[None].to(self.device)
            channels, logits = self.model.decoder.styled(f, s)
            return channels[0].cpu().numpy(), logits[0].softmax(-1).cpu().numpy()


def load_model_folder(folder: str | Path):
    """Config and weights of a model folder; safetensors only, never pickle."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .model import ModelConfig

    folder = Path(folder)
    weights, config = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    if not folder.is_dir():
        raise ModelFileError(
            f"model folder not found: {folder}. Reinstall the extension or pass the right path."
        )
    if not weights.is_file():
        pickled = sorted(
            p.name for p in folder.iterdir() if p.suffix in (".pt", ".pth", ".bin", ".ckpt", ".pkl")
        )
        hint = f" ({', '.join(pickled)} refused: pickle files can run code)" if pickled else ""
        raise ModelFileError(f"no {WEIGHTS_FILE} in {folder}{hint}. Only safetensors weights are loaded.")
    if not config.is_file():
        raise ModelFileError(f"no {CONFIG_FILE} beside {weights}: the weights cannot be used without it.")
    data = read_config(config)
    try:
        cfg = ModelConfig.from_json(data)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{config} is not a valid model config: {exc}") from exc
    checked_viseme_loss_weights(cfg.viseme_loss_weights, config)
    _check_rumble_cutoff(cfg.rumble_cutoff_hz, config)
    try:
        return cfg, load_file(weights)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(
            f"{weights} is corrupt or truncated ({exc}). Reinstall or re-download it."
        ) from exc


def save_model_folder(model, folder: str | Path) -> Path:
    """Write ``model.safetensors`` and ``config.json``: the layout ``load_model_folder`` reads."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, folder / WEIGHTS_FILE)
    (folder / CONFIG_FILE).write_text(json.dumps(model.cfg.to_json(), indent=1), encoding="utf-8")
    return folder


class LipSync:
    """Audio -> curves with chunked, cached encoding; see the module docstring.

    The defaults encode 8 s windows (6 s chunks with 1 s of context on each side) hopping by 6 s,
    cross-faded: the encoder attends across its whole input.  On held-out voices joined into
    20-27 s files with one room and microphone per file, like a real recording, 8 s windows
    score within noise of 4 s ones on every metric and compute 15 % less (MODEL_CARD.md, "Long
    files"; rule AA).  Files that switch room at every join favour 4 s windows (rules J, R)."""

    def __init__(
        self,
        backend: Backend,
        chunk_s: float = 6.0,
        context_s: float = 1.0,
        cache_entries: int = 4,
        crossfade: bool = True,
    ) -> None:
        self.backend = backend
        self.chunk_frames = max(1, round(chunk_s * MODEL_FPS))
        self.context_frames = max(0, round(context_s * MODEL_FPS))
        self.crossfade = crossfade
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_entries = cache_entries

    def features(self, audio: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """Encoder features of 16 kHz audio, one per 20 ms, cached by content.

        ``progress(fraction)`` is called after every chunk; raising from it cancels the run.
        """
        key = hashlib.sha1(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        features = self._encode_chunked(audio, progress)
        self._cache[key] = features
        while len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)
        return features

    def _encode_chunked(self, audio: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """Encode chunk by chunk, each with ``context`` of audio on both sides.

        Hard chunks keep each window's middle.  With ``crossfade`` the features of two
        neighbouring windows are blended across the ``2 * context`` they share (at most a chunk), the weight
        falling to 0 at each window's edge, so no frame switches abruptly from one window's
        view to the next.
        """
        frames = len(audio) // HOP
        # Ramps may not overlap beyond the next chunk: at most half a chunk on each side.
        fade = min(self.context_frames, self.chunk_frames // 2) if self.crossfade else 0
        out: np.ndarray | None = None
        for first in range(0, max(frames, 1), self.chunk_frames):
            last = min(first + self.chunk_frames, frames)
            lo = max(0, first - self.context_frames)
            hi = min(frames, last + self.context_frames)
            feats = self.backend.encode(audio[lo * HOP : hi * HOP])
            if out is None:
                out = np.zeros((frames, feats.shape[1]), np.float32)
            keep_lo, keep_hi = max(0, first - fade), min(frames, last + fade)
            weight = _fade_weights(np.arange(keep_lo, keep_hi), first, last, fade, frames)
            out[keep_lo:keep_hi] += weight[:, None] * feats[keep_lo - lo : keep_hi - lo]
            if progress is not None:
                progress(last / max(frames, 1))
        return out if out is not None else np.zeros((0, 0), np.float32)

    def model_curves(
        self, audio: np.ndarray, style: Style | None = None, progress: Progress | None = None
    ) -> Curves:
        """The network's own 50 Hz output for 16 kHz audio."""
        features = self.features(audio, progress)
        if len(features) == 0:
            return Curves(MODEL_FPS, np.zeros((0, len(MOUTH_CHANNELS))), np.zeros((0, len(VISEMES))))
        channels, visemes = self.backend.decode(features, (style or Style()).to_vector())
        return Curves(MODEL_FPS, channels, visemes)

    def curves(
        self,
        audio: str | Path | np.ndarray,
        sample_rate: int | None = None,
        fps: float = 24.0,
        style: Style | None = None,
        post: PostProcess | None = None,
    ) -> Curves:
        """Curves at ``fps`` (any positive rate, fractional too) for a file or an array."""
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        samples = load_audio(audio, sample_rate)
        post = post or PostProcess()
        raw = self.model_curves(samples, style)
        return self.post_process(raw, fps, len(samples) / MODEL_SAMPLE_RATE, post)

    def post_process(
        self, raw: Curves, fps: float, duration: float, post: PostProcess, lead_s: float = 0.0
    ) -> Curves:
        """:func:`post_process` with this backend's model's viseme class weights."""
        return post_process(raw, fps, duration, post, lead_s, self.backend.viseme_loss_weights)


def _fade_weights(at: np.ndarray, first: int, last: int, fade: int, frames: int) -> np.ndarray:
    """Weight of the chunk keeping ``[first, last)`` at frames ``at``: 1 inside, linear ramps of
    ``2 * fade`` centred on its inner boundaries (neighbouring ramps sum to 1), none at the audio's ends."""
    weight = np.ones(len(at), np.float32)
    if fade > 0:
        if first > 0:
            weight = np.minimum(weight, (at - (first - fade) + 0.5) / (2 * fade))
        if last < frames:
            weight = np.minimum(weight, ((last + fade) - at - 0.5) / (2 * fade))
    return np.clip(weight, 0.0, 1.0)


def post_process(
    raw: Curves,
    fps: float,
    duration: float,
    post: PostProcess,
    lead_s: float = 0.0,
    viseme_loss_weights: Mapping[str, float] | None = None,
) -> Curves:
    """50 Hz model output -> curves at ``fps`` over ``duration`` s, starting at source time
    ``lead_s``: lips sealed where the model is fairly sure of p/b/m and parted where it is
    sure of a vowel, viseme probabilities freed of the training's class weights (None: of
    the default ones), resampled (shifted by the anticipation) and smoothed."""
    lips_fixed = part_vowels(seal_lips(raw, post.seal_threshold), post.vowel_open_threshold)
    weights = VISEME_LOSS_WEIGHTS if viseme_loss_weights is None else viseme_loss_weights
    unweighted = Curves(raw.fps, lips_fixed.channels, undo_class_weights(lips_fixed.visemes, weights))
    out = resample_curves(unweighted, fps, duration, lead_s + post.anticipation_ms / 1000.0)
    return smooth(out, post.smoothing_ms, post.smoothing_order)


def read_config(config: Path) -> dict:
    """A model folder's ``config.json`` as a dict (ModelFileError when unreadable); no torch needed."""
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{config} is not a valid model config: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{config} is not a valid model config: not a JSON object")
    return data


def checked_viseme_loss_weights(weights: object, config: Path) -> dict[str, float]:
    """``weights`` from a model config, refused (ModelFileError) unless viseme name -> weight > 0."""
    if not isinstance(weights, Mapping) or not all(
        name in VISEMES and isinstance(w, int | float) and w > 0 for name, w in weights.items()
    ):
        raise ModelFileError(
            f"{config}: viseme_loss_weights must map viseme names {VISEMES} to positive numbers, "
            f"got {weights!r}. Restore the config the model was exported with."
        )
    return {name: float(w) for name, w in weights.items()}


def _check_rumble_cutoff(cutoff: object, config: Path) -> None:
    """ModelFileError unless ``cutoff`` (a model config's) is a number of Hz in [0, 1000)."""
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not 0 <= cutoff < 1000:
        raise ModelFileError(
            f"{config}: rumble_cutoff_hz must be a number of Hz from 0 (no filter) to below 1000, "
            f"got {cutoff!r}. Restore the config the model was exported with."
        )


def undo_class_weights(visemes: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """Viseme probabilities as if the head had been trained without class weights.

    Weighted cross-entropy ``-sum_c w_c t_c log p_c`` is minimised by ``p_c ~ w_c t_c``, so
    a class weighted 3x comes out 3x too likely (on held-out voices the weighted argmax
    said PP 29 % more often than the reference).  Dividing by ``w_c`` and renormalising
    recovers ``t``.  The seals and the vowel parting read the weighted probabilities:
    their thresholds were chosen on them.
    """
    if visemes.size == 0 or not weights:
        return visemes
    divisor = np.ones(visemes.shape[1])
    for name, weight in weights.items():
        divisor[VISEMES.index(name)] = weight
    scaled = visemes / divisor
    return scaled / scaled.sum(axis=1, keepdims=True)


def seal_lips(raw: Curves, threshold: float) -> Curves:
    """Commit to the lip closures the network hedges on.

    Where it is unsure whether a p/b/m is sealed, a regression network outputs the
    average of sealed and open: lips nearly but not quite together, which reads as a
    missed closure.  Wherever the PP viseme probability has a local peak of at least
    ``threshold``, the most closed pose within ``SEAL_REACH_S`` is sealed (see
    :func:`contract.sealed`: jaw kept, lips brought together).  ``threshold`` >= 1 turns
    this off.
    """
    if threshold >= 1.0 or raw.frames == 0:
        return raw
    reach = max(1, round(SEAL_REACH_S * raw.fps))
    prob = raw.visemes[:, VISEMES.index("PP")]
    peaks = np.nonzero((prob >= threshold) & (prob >= _window_max(prob, reach)))[0]
    gap = lip_aperture(raw.channels)
    targets = {_most_closed_near(gap, peak, reach) for peak in peaks}
    open_targets = np.array(sorted(i for i in targets if gap[i] >= CLOSED_LIPS_APERTURE), dtype=int)
    return _reposed(raw, open_targets, sealed)


def part_vowels(raw: Curves, threshold: float) -> Curves:
    """Open the lips the channels shut while the network is sure it hears a vowel.

    The channel regression sometimes keeps the lips together through a short vowel
    next to /m/ or after a seal, while the viseme head is confident of the vowel.
    Where the vowel visemes together reach ``threshold`` and the lips are closed, the
    lips are parted just past the closed-lips aperture (:func:`contract.parted`).
    ``threshold`` >= 1 turns this off.
    """
    if threshold >= 1.0 or raw.frames == 0:
        return raw
    vowel = raw.visemes[:, [VISEMES.index(v) for v in VOWEL_VISEMES]].sum(axis=1)
    shut = np.nonzero((vowel >= threshold) & lips_closed(raw.channels))[0]
    return _reposed(raw, shut, parted)


def _reposed(raw: Curves, frames: np.ndarray, pose: Callable[[np.ndarray], np.ndarray]) -> Curves:
    """``raw`` with the channel rows at ``frames`` replaced by ``pose`` of them (itself if none)."""
    if frames.size == 0:
        return raw
    channels = np.array(raw.channels, copy=True)
    channels[frames] = pose(channels[frames])
    return Curves(raw.fps, channels, raw.visemes)


def _most_closed_near(gap: np.ndarray, frame: int, reach: int) -> int:
    """The frame of smallest lip aperture within +-``reach`` of ``frame``."""
    first = max(0, frame - reach)
    return first + int(np.argmin(gap[first : frame + reach + 1]))


def _window_max(values: np.ndarray, reach: int) -> np.ndarray:
    """The maximum of ``values`` over each index's window of +-``reach`` (edges padded)."""
    padded = np.pad(values, reach, mode="edge")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).max(axis=1)


def resample_curves(curves: Curves, fps: float, duration: float, lead_s: float = 0.0) -> Curves:
    """Sample 50 Hz curves at the instants k / fps (+ ``lead_s``: the mouth moves earlier).

    A 20 ms lip seal can fall between two output instants and vanish (below 50 fps, and at
    rates such as 60 fps whose instants drift across the model's); so a seal that no instant
    catches shows on the frame nearest its centre (see ``_keep_seals``).
    """
    n = frame_count(duration, fps)
    if curves.frames == 0:
        channels, visemes = np.zeros((n, curves.channels.shape[1])), np.zeros((n, curves.visemes.shape[1]))
        visemes[:, 0] = 1.0
        return Curves(fps, channels, visemes)
    src = np.arange(curves.frames) / curves.fps
    at = np.arange(n) / fps + lead_s

    def interp(values: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(at, src, values[:, i]) for i in range(values.shape[1])], axis=1)

    channels, visemes = interp(curves.channels), interp(curves.visemes)
    if n > 0:
        _keep_seals(curves, at, fps, channels, visemes)
    return Curves(fps, np.clip(channels, 0, 1), visemes / visemes.sum(axis=1, keepdims=True))


def _keep_seals(
    curves: Curves, at: np.ndarray, fps: float, channels: np.ndarray, visemes: np.ndarray
) -> None:
    """Give each run of sealed model frames that no output instant catches (shorter than an
    output frame, between two instants) the output frame nearest its centre, in the pose of
    its most closed model frame (in place).

    This is how the teacher places a too-short p/b/m at a low frame rate.  Sealing every
    frame whose span merely touches a seal would shut the lips up to half a frame early and
    late: the last frames of a short vowel before p/b/m (MODEL_CARD.md, "Seal keeping at the
    scene rate").
    """
    gap = lip_aperture(curves.channels)
    first, stop = true_runs(lips_closed(curves.channels))
    last = stop - 1  # each run of sealed model frames, inclusive
    closed = lips_closed(channels)
    closed_before = np.concatenate(([0], np.cumsum(closed)))
    lo = np.searchsorted(at, first / curves.fps - 1e-9, side="left")
    hi = np.searchsorted(at, last / curves.fps + 1e-9, side="right")
    missed = closed_before[hi] == closed_before[lo]
    centre = 0.5 * (first + last) / curves.fps
    nearest = np.clip(np.rint((centre - at[0]) * fps).astype(int), 0, len(at) - 1)
    for a, b, k in zip(first[missed], last[missed], nearest[missed], strict=True):
        if not closed[k]:
            most_closed = a + int(np.argmin(gap[a : b + 1]))
            channels[k], visemes[k] = curves.channels[most_closed], curves.visemes[most_closed]
            closed[k] = True


def smooth(curves: Curves, window_ms: float, order: int) -> Curves:
    """Savitzky-Golay smoothing of the channels over ``window_ms`` (odd frame count > order)."""
    window = round(window_ms / 1000.0 * curves.fps) | 1
    if window_ms <= 0 or window <= order or curves.frames < window:
        return curves
    channels = savgol_filter(curves.channels, window, order, axis=0)
    return Curves(curves.fps, np.clip(channels, 0.0, 1.0), curves.visemes)

"""The channel contract: the one definition of what the model emits.

At 50 Hz the model outputs
  * mouth channels: the ARKit lower-face blendshapes, values in [0, 1];
  * viseme probabilities: the 15 Oculus visemes, summing to 1 per frame.

Everything else (teacher, training, retarget presets, exports, tests) imports
these names from here instead of spelling them again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODEL_FPS = 50.0
"""Frame rate of the model output (one frame per 20 ms wav2vec2 feature)."""
HOP = 320
"""Audio samples (at 16 kHz) per model frame: 16000 / MODEL_FPS."""

MOUTH_CHANNELS: tuple[str, ...] = (
    "jawOpen",
    "jawForward",
    "jawLeft",
    "jawRight",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "cheekPuff",
    "tongueOut",
)
"""ARKit lower-face channels (jaw*, mouth*, cheekPuff, tongueOut)."""

VISEMES: tuple[str, ...] = (
    "sil",
    "PP",
    "FF",
    "TH",
    "DD",
    "kk",
    "CH",
    "SS",
    "nn",
    "RR",
    "aa",
    "E",
    "I",
    "O",
    "U",
)
"""The 15 Oculus visemes, in their canonical order."""
VOWEL_VISEMES: tuple[str, ...] = ("aa", "E", "I", "O", "U")
"""The visemes of vowels: the lips are apart on all of them."""

VISEME_LOSS_WEIGHTS: dict[str, float] = {"PP": 3.0, "FF": 2.0}
"""Class weights of the viseme cross-entropy in training (the rest weigh 1): lip visemes are
short and few, and unweighted the network learns to skip them.  They skew the network's
viseme probabilities by the same factors, which inference divides out again."""

RHUBARB_SHAPES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
"""Rhubarb Lip Sync / Preston Blair mouth chart: A closed (M B P), B slightly open with
teeth together (most consonants, EE), C open (EH, AE), D wide open (AA), E slightly
rounded (AO, ER), F puckered (UW, OW, W), G upper teeth on lower lip (F V), H tongue
up (long L), X rest."""

RHUBARB_SHAPE_OF_VISEME: dict[str, str] = {
    "sil": "X",
    "PP": "A",
    "FF": "G",
    "TH": "B",
    "DD": "B",
    "kk": "B",
    "CH": "B",
    "SS": "B",
    "nn": "H",
    "RR": "E",
    "aa": "D",
    "E": "C",
    "I": "B",
    "O": "E",
    "U": "F",
}
"""Which mouth-chart shape shows each viseme (Oculus ``nn`` covers n and l: Rhubarb's H)."""

CHANNEL_INDEX: dict[str, int] = {name: i for i, name in enumerate(MOUTH_CHANNELS)}
VISEME_INDEX: dict[str, int] = {name: i for i, name in enumerate(VISEMES)}

CLOSED_LIPS_APERTURE = 0.1
"""Lip aperture below which the lips count as closed (see :func:`lip_aperture`)."""


def lip_aperture(channels):
    """How far apart the lips are, per frame, from ARKit channel values.

    ARKit's ``mouthClose`` cancels the lip part of ``jawOpen`` (lips together while
    the jaw hangs open), so the gap is ``jawOpen - mouthClose`` plus what the lips do
    on their own (lower lip down, upper lip up, funnel).  Presses and rolls pull the
    lips together.  0 means sealed lips.  Takes a numpy array (computed in float64)
    or a torch tensor (kept differentiable, for the training loss).
    """
    c = channels if hasattr(channels, "detach") else np.asarray(channels, dtype=np.float64)

    def mean(*names: str):
        return sum(c[..., CHANNEL_INDEX[n]] for n in names) / len(names)

    def relu(x):  # max(x, 0) for numpy and torch alike
        return (x + abs(x)) / 2

    jaw_gap = relu(mean("jawOpen") - mean("mouthClose"))
    lip_gap = (
        0.5 * mean("mouthLowerDownLeft", "mouthLowerDownRight")
        + 0.5 * mean("mouthUpperUpLeft", "mouthUpperUpRight")
        + 0.3 * mean("mouthFunnel")
    )
    seal = 0.3 * mean("mouthPressLeft", "mouthPressRight")
    return relu(jaw_gap + lip_gap - seal)


LIP_OPENING_CHANNELS: tuple[str, ...] = (
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "mouthFunnel",
)
"""The channels that part the lips on their own, apart from the jaw (see :func:`lip_aperture`)."""


def sealed(channels: np.ndarray, aperture: float = CLOSED_LIPS_APERTURE / 2) -> np.ndarray:
    """The nearest sealed version of each pose (rows of ``channels``): the jaw stays where it
    is, ``mouthClose`` cancels its lip part, and the lip-opening channels shrink just enough
    for the lip aperture to reach ``aperture`` (kept as they are where it already does)."""
    out = np.array(channels, dtype=np.float64, copy=True)
    jaw, close = CHANNEL_INDEX["jawOpen"], CHANNEL_INDEX["mouthClose"]
    out[:, close] = np.maximum(out[:, close], out[:, jaw])
    opening = [CHANNEL_INDEX[n] for n in LIP_OPENING_CHANNELS]
    need = lip_aperture(out) > aperture
    lo, hi = np.zeros(len(out)), np.ones(len(out))  # the scale of the lip-opening channels
    base = out[:, opening].copy()
    for _ in range(30):  # bisection: lip_aperture is monotonic in the scale
        mid = (lo + hi) / 2
        out[:, opening] = base * mid[:, None]
        too_open = lip_aperture(out) > aperture
        hi, lo = np.where(too_open, mid, hi), np.where(too_open, lo, mid)
    out[:, opening] = base * np.where(need, lo, 1.0)[:, None]
    return out


def parted(channels: np.ndarray, aperture: float = 1.2 * CLOSED_LIPS_APERTURE) -> np.ndarray:
    """Each pose (rows of ``channels``) with the lips apart by at least ``aperture``: the jaw
    stays, ``mouthClose`` lets go of its lip part, presses release, and what the jaw cannot
    open the lower lip does (``mouthLowerDown``)."""
    out = np.array(channels, dtype=np.float64, copy=True)
    jaw, close = CHANNEL_INDEX["jawOpen"], CHANNEL_INDEX["mouthClose"]
    out[:, close] = np.clip(np.minimum(out[:, close], out[:, jaw] - aperture), 0.0, 1.0)
    for name in ("mouthPressLeft", "mouthPressRight"):
        out[:, CHANNEL_INDEX[name]] = 0.0
    short = np.maximum(aperture - lip_aperture(out), 0.0)
    for name in ("mouthLowerDownLeft", "mouthLowerDownRight"):  # half-weighted in lip_aperture
        out[:, CHANNEL_INDEX[name]] = np.clip(out[:, CHANNEL_INDEX[name]] + 2.0 * short, 0.0, 1.0)
    return out


def lips_closed(channels: np.ndarray) -> np.ndarray:
    """Boolean per frame: are the lips sealed (as on /p b m/)?"""
    return lip_aperture(channels) < CLOSED_LIPS_APERTURE


@dataclass
class Curves:
    """Mouth animation sampled at ``fps``: frame ``k`` is the instant ``k / fps`` seconds.

    ``channels`` has shape (frames, len(MOUTH_CHANNELS)) with values in [0, 1];
    ``visemes`` has shape (frames, len(VISEMES)) with rows summing to 1.
    """

    fps: float
    channels: np.ndarray
    visemes: np.ndarray

    def __post_init__(self) -> None:
        self.channels = np.asarray(self.channels, dtype=np.float32)
        self.visemes = np.asarray(self.visemes, dtype=np.float32)
        if self.channels.ndim != 2 or self.channels.shape[1] != len(MOUTH_CHANNELS):
            raise ValueError(f"channels must be (frames, {len(MOUTH_CHANNELS)}), got {self.channels.shape}")
        if self.visemes.shape != (self.channels.shape[0], len(VISEMES)):
            raise ValueError(f"visemes must be (frames, {len(VISEMES)}), got {self.visemes.shape}")

    @property
    def frames(self) -> int:
        return int(self.channels.shape[0])

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.frames) / self.fps

    def channel(self, name: str) -> np.ndarray:
        return self.channels[:, CHANNEL_INDEX[name]]

    def viseme_ids(self) -> np.ndarray:
        """Most probable viseme index per frame."""
        return np.argmax(self.visemes, axis=1)

    def shifted(self, frames: int) -> Curves:
        """The same animation ``frames`` later (positive) or earlier, edges held."""
        idx = np.clip(np.arange(self.frames) - frames, 0, self.frames - 1)
        return Curves(self.fps, self.channels[idx], self.visemes[idx])


def frame_count(duration_s: float, fps: float) -> int:
    """Frames of a clip: instants 0, 1/fps, ... up to and including ``duration_s``."""
    return int(np.floor(max(duration_s, 0.0) * fps + 1e-9)) + 1

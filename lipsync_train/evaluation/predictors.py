"""Lip-sync predictors the yardstick can score, by name.

A predictor is a callable ``(audio16k, fps) -> Curves``.  Built in:

* ``baseline``: the energy baseline ("the mouth flaps with loudness");
* ``teacher``: the teacher on the true phone timing, i.e. the reference itself (an
  *oracle*: it is handed the true phones; a sanity check that must score perfectly);
* ``teacher_shift:N``: the same, N frames late (negative: early); its lag must read N.

Other predictors (the trained model, the log-mel CNN control) join with
:func:`register` or :func:`register_lazy`, or are named on the command line as
``package.module:attribute`` (an importable predictor callable).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from blender_lipsync.core.audio import MODEL_SAMPLE_RATE
from blender_lipsync.core.contract import (
    CHANNEL_INDEX,
    MOUTH_CHANNELS,
    VISEME_INDEX,
    VISEMES,
    Curves,
    frame_count,
)
from blender_lipsync.core.style import Style
from lipsync_train.phonemes import Phone

Predictor = Callable[[np.ndarray, float], Curves]
"""``(mono float32 audio at 16 kHz, fps) -> Curves`` with ``frame_count(duration, fps)`` frames."""
OraclePredictor = Callable[[np.ndarray, float, Sequence[Phone]], Curves]
"""A sanity predictor that is also handed the true phone timeline."""
Factory = Callable[[str | None], Predictor | OraclePredictor]
"""Builds a predictor from the argument after ``name:`` (None without one)."""


# ---------------------------------------------------------------- reference = teacher on true timing


def teacher_curves(
    audio: np.ndarray, phones: Sequence[Phone], fps: float, style: Style | None = None
) -> Curves:
    """The reference lip-sync: the teacher on the true timing, jaw following this audio's loudness."""
    from lipsync_train import teacher

    duration = len(audio) / MODEL_SAMPLE_RATE
    loudness = teacher.loudness_envelope(audio, MODEL_SAMPLE_RATE)
    return teacher.render(phones, fps, style or Style(), loudness=loudness, duration=duration)


def shifted_teacher(frames: int) -> OraclePredictor:
    """The reference moved ``frames`` later (positive) or earlier, edges held."""

    def predict(audio: np.ndarray, fps: float, phones: Sequence[Phone]) -> Curves:
        return teacher_curves(audio, phones, fps).shifted(frames)

    return predict


# ---------------------------------------------------------------- energy baseline

_HOP_S = 0.01
_WINDOW_S = 0.04
_RANGE_DB = 30.0  # level range mapped to [0, 1] below the utterance's loud parts
_QUIET = 0.25  # normalised level below which the mouth rests shut
_JAW_MAX = 0.6


def energy_level(audio: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Smoothed short-time RMS level at ``times`` (s), normalised per utterance to [0, 1].

    1 = the loud parts (95th percentile), 0 = 30 dB below them or quieter.
    """
    x = np.asarray(audio, np.float64)
    hop, win = int(_HOP_S * MODEL_SAMPLE_RATE), int(_WINDOW_S * MODEL_SAMPLE_RATE)
    grid = np.arange(max(1, int(np.ceil(len(x) / hop)) + 1)) * _HOP_S
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    centres = (grid * MODEL_SAMPLE_RATE).astype(int)
    lo, hi = np.clip(centres - win // 2, 0, len(x)), np.clip(centres + win // 2, 0, len(x))
    power = (energy[hi] - energy[lo]) / np.maximum(hi - lo, 1)
    db = 10 * np.log10(power + 1e-10)
    loud = np.percentile(db, 95)
    level = np.clip((db - loud + _RANGE_DB) / _RANGE_DB, 0.0, 1.0)
    kernel = np.hanning(7)  # ~60 ms: a jaw cannot follow syllable-internal flicker
    level = np.convolve(level, kernel / kernel.sum(), mode="same")
    return np.interp(times, grid, level)


def energy_baseline(audio: np.ndarray, fps: float) -> Curves:
    """Energy baseline, "the mouth flaps with loudness": jaw from energy; shut lips, ``sil`` when quiet."""
    times = np.arange(frame_count(len(audio) / MODEL_SAMPLE_RATE, fps)) / fps
    level = energy_level(audio, times)
    quiet = level < _QUIET
    jaw = _JAW_MAX * np.clip((level - _QUIET) / (1.0 - _QUIET), 0.0, 1.0)  # 0 (lips shut) when quiet
    channels = np.zeros((len(times), len(MOUTH_CHANNELS)))
    channels[:, CHANNEL_INDEX["jawOpen"]] = jaw
    channels[:, CHANNEL_INDEX["mouthLowerDownLeft"]] = 0.3 * jaw
    channels[:, CHANNEL_INDEX["mouthLowerDownRight"]] = 0.3 * jaw
    visemes = np.zeros((len(times), len(VISEMES)))
    visemes[quiet, VISEME_INDEX["sil"]] = 1.0
    visemes[~quiet, VISEME_INDEX["aa"]] = 1.0
    return Curves(fps, channels, visemes)


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Entry:
    """How to build a predictor: ``factory(argument)`` (the text after ``name:``, or None)."""

    factory: Factory
    oracle: bool = False
    doc: str = ""


@dataclass
class LoadedPredictor:
    """A built predictor with a uniform call; oracles get the phones, others never see them."""

    name: str
    fn: Predictor | OraclePredictor
    oracle: bool = False

    def __call__(self, audio: np.ndarray, fps: float, phones: Sequence[Phone]) -> Curves:
        return self.fn(audio, fps, phones) if self.oracle else self.fn(audio, fps)  # type: ignore[call-arg]


_REGISTRY: dict[str, Entry] = {}


def register(name: str, factory: Factory, *, oracle: bool = False, doc: str = "") -> None:
    """Make ``name`` (and ``name:argument``) loadable.  Oracles are handed the true phones."""
    _REGISTRY[name] = Entry(factory, oracle, doc)


def register_lazy(name: str, target: str, doc: str = "") -> None:
    """Register ``name`` as ``module:factory``, imported only when it is loaded
    (keeps torch and model weights out of runs that do not use them)."""

    def factory(arg: str | None) -> Predictor:
        builder = _import(target)
        return builder(arg) if arg is not None else builder()

    register(name, factory, doc=doc)


def available() -> dict[str, str]:
    """Registered names and their one-line descriptions."""
    return {name: entry.doc for name, entry in sorted(_REGISTRY.items())}


def load(spec: str) -> LoadedPredictor:
    """``name``, ``name:argument`` or ``package.module:attribute`` -> a ready predictor."""
    name, _, arg = spec.partition(":")
    if name in _REGISTRY:
        entry = _REGISTRY[name]
        return LoadedPredictor(spec, entry.factory(arg or None), entry.oracle)
    if "." in name and arg:
        return LoadedPredictor(spec, _import(spec))
    raise KeyError(f"unknown predictor {spec!r}; known: {', '.join(available())} or package.module:attribute")


def _import(target: str) -> Callable:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _no_argument(name: str, fn: Predictor | OraclePredictor) -> Factory:
    def factory(arg: str | None) -> Predictor | OraclePredictor:
        if arg is not None:
            raise ValueError(f"predictor {name!r} takes no argument")
        return fn

    return factory


def _teacher_oracle(arg: str | None) -> OraclePredictor:
    return shifted_teacher(int(arg or 0))


register("baseline", _no_argument("baseline", energy_baseline), doc="energy baseline: jaw follows loudness")
register(
    "teacher",
    _no_argument("teacher", shifted_teacher(0)),
    oracle=True,
    doc="oracle: the teacher on the true timing (scores perfectly)",
)
register(
    "teacher_shift", _teacher_oracle, oracle=True, doc="oracle: teacher_shift:N is the teacher N frames late"
)
register_lazy(
    "model",
    "lipsync_train.evaluation.model_predictor:torch_predictor",
    doc="the network with torch: model:DIR (default models/lipsync; a training run's best/ works)",
)
register_lazy(
    "model-seal",
    "lipsync_train.evaluation.model_predictor:sealed_torch_predictor",
    doc="the network with torch at another lip-seal threshold: model-seal:T:DIR (T=1: seals off)",
)
register_lazy(
    "model-part",
    "lipsync_train.evaluation.model_predictor:parted_torch_predictor",
    doc="the network with torch at another vowel-parting threshold: model-part:T:DIR (T=1: off)",
)
register_lazy(
    "model-chunk",
    "lipsync_train.evaluation.model_predictor:chunked_torch_predictor",
    doc="the network with torch, encoding chunks of C s with X s of context either side: model-chunk:C:X:DIR",
)
register_lazy(
    "model-fade",
    "lipsync_train.evaluation.model_predictor:crossfaded_torch_predictor",
    doc="as model-chunk, neighbouring chunks cross-faded over their shared context: model-fade:C:X:DIR",
)
register_lazy(
    "onnx",
    "lipsync_train.evaluation.model_predictor:onnx_predictor",
    doc="the exported network with onnxruntime: onnx:DIR",
)

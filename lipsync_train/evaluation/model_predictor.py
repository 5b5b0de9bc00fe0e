"""Predictors backed by a trained network (``--predictor model:DIR`` or ``onnx:DIR``).

``DIR`` is a model folder (``model.safetensors`` + ``config.json``, as shipped in
``models/`` or written by training to ``<run>/best``) or an exported ONNX folder.
The predictor sees only the audio, at the neutral style and default post-processing
(``model-seal:T:DIR``: the same at lip-seal threshold T; ``model-seal:1:DIR`` turns them off;
``model-part:T:DIR``: at vowel-parting threshold T, ``model-part:1:DIR`` off;
``model-chunk:C:X:DIR``: encoding in chunks of C s with X s of context on each side;
``model-fade:C:X:DIR``: the same with neighbouring chunks cross-faded over their shared context).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from blender_lipsync.core.contract import Curves
from blender_lipsync.core.inference import Backend, LipSync, PostProcess, TorchBackend, default_model_folder


def _predictor(backend: Backend, post: PostProcess | None = None, **chunking):
    lipsync = LipSync(backend, **chunking)

    def predict(audio: np.ndarray, fps: float) -> Curves:
        return lipsync.curves(audio, sample_rate=16000, fps=fps, post=post)

    return predict


def _model_folder(folder: str | None) -> Path:
    """The folder named after ``model:``/``onnx:``, else the shipped model."""
    return Path(folder) if folder else default_model_folder()


def torch_predictor(folder: str | None = None):
    return _predictor(TorchBackend.from_folder(_model_folder(folder)))


def _threshold_predictor(arg: str | None, field: str, prefix: str):
    """``T`` or ``T:DIR``: the network with PostProcess ``field`` at T."""
    threshold, _, folder = (arg or "").partition(":")
    try:
        post = PostProcess(**{field: float(threshold)})
    except ValueError as exc:
        raise ValueError(f"{prefix}:T[:DIR] needs a threshold T in 0..1, got {threshold!r}") from exc
    return _predictor(TorchBackend.from_folder(_model_folder(folder)), post)


def sealed_torch_predictor(arg: str | None = None):
    """``T`` or ``T:DIR``: the network at lip-seal threshold T (1 = seals off)."""
    return _threshold_predictor(arg, "seal_threshold", "model-seal")


def parted_torch_predictor(arg: str | None = None):
    """``T`` or ``T:DIR``: the network at vowel-parting threshold T (1 = off)."""
    return _threshold_predictor(arg, "vowel_open_threshold", "model-part")


def chunked_torch_predictor(arg: str | None = None, crossfade: bool = False):
    """``C:X`` or ``C:X:DIR``: the network encoding chunks of C s with X s of context either side."""
    chunk, _, rest = (arg or "").partition(":")
    context, _, folder = rest.partition(":")
    try:
        chunking = {"chunk_s": float(chunk), "context_s": float(context)}
    except ValueError as exc:
        raise ValueError(f"model-chunk:C:X[:DIR] needs chunk and context seconds, got {arg!r}") from exc
    return _predictor(TorchBackend.from_folder(_model_folder(folder)), crossfade=crossfade, **chunking)


def crossfaded_torch_predictor(arg: str | None = None):
    """``C:X`` or ``C:X:DIR``: as ``model-chunk``, neighbouring chunks cross-faded over their context."""
    return chunked_torch_predictor(arg, crossfade=True)


def onnx_predictor(folder: str | None = None):
    from blender_lipsync.core.onnx_backend import OnnxBackend

    return _predictor(OnnxBackend(_model_folder(folder)))

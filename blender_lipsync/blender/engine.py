"""The model runtime inside Blender: one cached ``LipSync`` per runtime choice.

The default is onnxruntime (bundled as wheels with the extension, no torch needed); torch
is used when the user picks it and it is importable (e.g. for a GPU).  Keeping the
``LipSync`` object alive keeps its feature cache: re-styling the same audio re-runs only
the decoder.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.inference import LipSync, ModelFileError

PACKAGE = Path(__file__).resolve().parent.parent
MODEL_DIRS = (PACKAGE / "model", PACKAGE.parent / "models" / "lipsync")
"""Shipped inside the extension zip; in a source checkout, the repository's ``models/lipsync``."""

RUNTIMES = ("ONNX", "TORCH")
_engines: dict[tuple[str, str], LipSync] = {}


MODEL_ENV = "BLENDER_LIPSYNC_MODEL"
"""A model folder to use instead of the shipped one (pipelines with their own model)."""


def model_folder() -> Path:
    override = os.environ.get(MODEL_ENV)
    for folder in (Path(override),) if override else MODEL_DIRS:
        if (folder / "config.json").is_file():
            return folder
    raise ModelFileError(
        f"no lip-sync model found (looked in {', '.join(str(d) for d in MODEL_DIRS)}): "
        "reinstall the extension."
    )


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def get_engine(runtime: str = "ONNX") -> LipSync:
    """The cached engine for ``runtime`` ("ONNX" or "TORCH"); raises ModelFileError with advice."""
    folder = model_folder()
    key = (runtime, str(folder))
    if key not in _engines:
        _engines[key] = LipSync(_backend(runtime, folder))
    return _engines[key]


def _backend(runtime: str, folder: Path):
    if runtime == "TORCH":
        if not torch_available():
            raise ModelFileError("torch is not installed in Blender's Python: choose the ONNX runtime.")
        from ..core.inference import TorchBackend

        return TorchBackend.from_folder(folder)
    from ..core.onnx_backend import OnnxBackend

    try:
        return OnnxBackend(folder)
    except ImportError as exc:  # onnxruntime is imported when the backend starts
        raise ModelFileError(f"onnxruntime is missing ({exc}): reinstall the extension.") from exc


def forget_engines() -> None:
    """Drop loaded models (on unregister, or after the model files changed)."""
    _engines.clear()

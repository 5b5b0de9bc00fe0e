"""The model runtime inside Blender: one cached ``LipSync`` per runtime choice.

The default is onnxruntime (bundled as wheels with the extension, no torch needed); torch
is used when the user picks it and it is importable (e.g. for a GPU).  Keeping the
``LipSync`` object alive keeps its feature cache: re-styling the same audio re-runs only
the decoder.
"""

from __future__ import annotations

from pathlib import Path

from ..core import inference
from ..core.inference import LipSync, ModelFileError

RUNTIMES = ("ONNX", "TORCH")
MODEL_DIRS = inference.MODEL_DIRS
_engines: dict[tuple[str, str], LipSync] = {}


def model_folder() -> Path:
    return inference.default_model_folder(MODEL_DIRS)


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

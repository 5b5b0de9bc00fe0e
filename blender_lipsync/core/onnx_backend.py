"""The torch-free runtime: the exported encoder and decoder run by onnxruntime.

This is what the Blender extension uses (onnxruntime wheels are small and exist for
every platform and Python); ``lipsync_train.export_onnx`` writes the two graphs and a
parity test keeps them equal to the torch model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .contract import VISEME_LOSS_WEIGHTS
from .inference import CONFIG_FILE, ModelFileError, checked_viseme_loss_weights, read_config

ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"


class OnnxBackend:
    """``Backend`` (see ``inference``) on onnxruntime's CPU provider."""

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        folder = Path(folder)
        for name in (ENCODER_FILE, DECODER_FILE, CONFIG_FILE):
            if not (folder / name).is_file():
                raise ModelFileError(
                    f"no {name} in {folder}: export the model with lipsync_train.export_onnx."
                )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3
        try:
            self.encoder = ort.InferenceSession(
                str(folder / ENCODER_FILE), options, providers=["CPUExecutionProvider"]
            )
            self.decoder = ort.InferenceSession(
                str(folder / DECODER_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise ModelFileError(
                f"cannot load the ONNX model in {folder} ({exc}); reinstall the extension."
            ) from exc
        self.name = "onnxruntime:cpu"
        self.viseme_loss_weights = _viseme_loss_weights(folder / CONFIG_FILE)

    def encode(self, audio: np.ndarray) -> np.ndarray:
        if len(audio) < 320:  # fewer samples than one frame: nothing to encode
            return np.zeros((0, self.encoder.get_outputs()[0].shape[-1]), np.float32)
        (features,) = self.encoder.run(None, {"audio": np.ascontiguousarray(audio, np.float32)[None]})
        return features[0]

    def decode(self, features: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feeds = {
            "features": np.ascontiguousarray(features, np.float32)[None],
            "style": np.asarray(style, np.float32)[None],
        }
        channels, visemes = self.decoder.run(None, feeds)
        return channels[0], visemes[0]


def _viseme_loss_weights(config: Path) -> dict[str, float]:
    """The class weights the exported model was trained with (its config.json, no torch needed)."""
    weights = read_config(config).get("viseme_loss_weights", VISEME_LOSS_WEIGHTS)
    return checked_viseme_loss_weights(weights, config)

"""Export a trained model folder to ONNX: ``python -m lipsync_train.export_onnx MODEL_DIR [OUT_DIR]``.

Two graphs, split where the style first acts, so that Blender re-styles by re-running only
the small one:
  encoder.onnx  audio (1, samples) 16 kHz -> features (1, samples // 320, F): the encoder and
                the decoder's style-free first layer (``WindowDecoder.style_free``)
  decoder.onnx  features (1, frames, F), style (1, S) -> channels (1, frames, C), visemes (1, frames, V)
``config.json`` is copied beside them.  The result runs with onnxruntime alone
(``blender_lipsync.core.onnx_backend.OnnxBackend``), no torch needed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import torch

from blender_lipsync.core.inference import CONFIG_FILE, TorchBackend
from blender_lipsync.core.onnx_backend import DECODER_FILE, ENCODER_FILE

OPSET = 17


class _Encoder(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.model.style_free(audio)


class _Decoder(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.decoder = model.decoder

    def forward(self, features: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        channels, logits = self.decoder.styled(features, style)
        return channels, logits.softmax(-1)


def export(model_dir: Path, out_dir: Path) -> Path:
    """Write encoder.onnx, decoder.onnx and config.json for the model in ``model_dir``."""
    model = TorchBackend.from_folder(model_dir, device="cpu").model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    audio = torch.zeros(1, 48000)
    # eval() on the wrappers too: in training mode the encoder would bake in SpecAugment masks
    torch.onnx.export(
        _Encoder(model).eval(),
        (audio,),
        out_dir / ENCODER_FILE,
        input_names=["audio"],
        output_names=["features"],
        dynamic_axes={"audio": {1: "samples"}, "features": {1: "frames"}},
        opset_version=OPSET,
        dynamo=False,
    )
    features = model.style_free(audio).detach()
    style = torch.zeros(1, model.cfg.style_dim)
    torch.onnx.export(
        _Decoder(model).eval(),
        (features, style),
        out_dir / DECODER_FILE,
        input_names=["features", "style"],
        output_names=["channels", "visemes"],
        dynamic_axes={"features": {1: "frames"}, "channels": {1: "frames"}, "visemes": {1: "frames"}},
        opset_version=OPSET,
        dynamo=False,
    )
    if out_dir.resolve() != Path(model_dir).resolve():
        shutil.copy(Path(model_dir) / CONFIG_FILE, out_dir / CONFIG_FILE)
    return out_dir


if __name__ == "__main__":
    src = Path(sys.argv[1])
    print(export(src, Path(sys.argv[2]) if len(sys.argv) > 2 else src))

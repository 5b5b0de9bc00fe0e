"""Average the weights of fine-tuned models: ``python build.py soup --out DIR MODEL_DIR MODEL_DIR ...``.

A "uniform model soup" (Wortsman et al., 2022): models fine-tuned from one shared
starting point sit in one loss basin, so their weight average is itself a good model,
often steadier on unseen data than any one of them, at no inference cost.  Only
models with the same config can be averaged; anything else is refused, except the input
rumble filter, which has no weights: the soup takes the first model's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from blender_lipsync.core.inference import ModelFileError, TorchBackend, load_model_folder, save_model_folder
from blender_lipsync.core.model import LipSyncModel

from .train import LossWeights, evaluate, heldout_batches


def average_weights(weights: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean of state dicts with the same names and shapes."""
    if not weights:
        raise ValueError("no models to average")
    names = set(weights[0])
    for other in weights[1:]:
        if set(other) != names or any(other[k].shape != weights[0][k].shape for k in names):
            raise ValueError("models have different tensors; they cannot be averaged")
    return {k: sum(w[k].double() for w in weights).div(len(weights)).to(weights[0][k].dtype) for k in names}


def soup(folders: Sequence[Path], out: Path) -> Path:
    """Write the weight average of the model folders to ``out`` (safetensors + config)."""
    loaded = [load_model_folder(f) for f in folders]
    config = loaded[0][0]
    for folder, (other, _) in zip(folders[1:], loaded[1:], strict=True):
        if other.weights_config() != config.weights_config():
            raise ValueError(f"{folder} has another model config than {folders[0]}")
    model = LipSyncModel(config)
    model.load_state_dict(average_weights([w for _, w in loaded]))
    return save_model_folder(model, out)


def heldout_scores(folders: Sequence[Path], corpus: Path) -> list[dict[str, float]]:
    """Held-out losses and frame metrics of each model folder, as ``build.py train`` logs them."""
    _, batches = heldout_batches(corpus)
    scores = []
    for folder in folders:  # one model in memory at a time
        model = TorchBackend.from_folder(folder, device="cpu").model
        scores.append(evaluate(model, batches, LossWeights(viseme_classes=model.cfg.viseme_loss_weights)))
    return scores


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="build.py soup", description=__doc__.split("\n\n")[0])
    p.add_argument("models", type=Path, nargs="+", help="model folders (model.safetensors + config.json)")
    p.add_argument("--out", type=Path, required=True, help="folder for the averaged model")
    p.add_argument(
        "--score",
        type=Path,
        metavar="CORPUS",
        help="also print each model's and the average's scores on the corpus' fixed held-out windows "
        "(the ones training keeps its best model by)",
    )
    args = p.parse_args(argv)
    if len(args.models) < 2:
        p.error("give at least two model folders")
    try:
        out = soup(args.models, args.out)
    except (ModelFileError, ValueError) as exc:
        print(f"soup: {exc}", file=sys.stderr)
        return 2
    print(f"averaged {len(args.models)} models into {out}")
    if args.score:
        folders = [*args.models, out]
        for folder, scores in zip(folders, heldout_scores(folders, args.score), strict=True):
            print(f"{folder}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training: ``python build.py train [--out data/train/run] [--steps N] ...``.

Resumable: every ``--ckpt-every`` steps the model (safetensors), optimiser state,
step and timing are written to ``<out>/last/``; a new run with the same
``--out`` continues from there (batch ``i`` is drawn from a generator seeded by
``(--seed, i)``, see ``loader``, and step ``i``'s dropout and time masks from global
generators reseeded with ``(--seed, i)``, so the step count is all the random state there is).
Progress goes to ``<out>/log.jsonl`` and stdout.
Every ``--eval-every`` steps a fixed set of held-out windows (voices, sentences
and languages never trained on) is scored; the best model is kept in ``<out>/best/``
and training stops early when it has not improved for ``--patience`` evaluations.

Losses: channel regression (L1) with a velocity term, soft-label viseme
cross-entropy (lip visemes weighted up), a lip-closure hinge on the predicted lip
aperture, and frame-level phone cross-entropy on the encoder (auxiliary).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from blender_lipsync.core.contract import (
    CHANNEL_INDEX,
    CLOSED_LIPS_APERTURE,
    VISEME_INDEX,
    VISEME_LOSS_WEIGHTS,
    VISEMES,
    lip_aperture,
)
from blender_lipsync.core.inference import ModelFileError, load_model_folder, save_model_folder
from blender_lipsync.core.model import LipSyncModel, ModelConfig

from .dataset import PHONE_CLASSES, CorpusWindows
from .loader import BatchSource, batches, default_workers

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_SEED = 12345
"""Seed of the held-out windows that early stopping (and `build.py soup --score`) read."""
WINDOW_S, BATCH, EVAL_BATCHES = 4.0, 8, 12
"""Defaults: seconds per example, examples per step, held-out batches per evaluation."""


@dataclass
class LossWeights:
    channels: float = 4.0
    velocity: float = 2.0
    visemes: float = 1.0
    phones: float = 0.5
    closure: float = 4.0
    open_side: float = 1.0
    """Weight of the closure hinge's open side (lips shut where the teacher clearly opens them)
    against its sealed side; training may raise it, held-out scores keep 1."""
    viseme_classes: dict[str, float] = field(default_factory=lambda: dict(VISEME_LOSS_WEIGHTS))
    """Per-viseme weights inside the viseme term; the model config records them for inference."""


SEALED, OPEN = 0.5 * CLOSED_LIPS_APERTURE, 1.5 * CLOSED_LIPS_APERTURE


def closure_loss(pred: torch.Tensor, target: torch.Tensor, open_side: float = 1.0) -> torch.Tensor:
    """Hinge on the lip aperture: sealed where the teacher seals, clearly apart where it opens.

    L1 on the channels alone lets an unsure network hover half-closed, which reads as
    open; the hinge makes it commit to a seal (and not seal on open vowels).
    """
    pred_gap, target_gap = lip_aperture(pred), lip_aperture(target)
    closed = (target_gap < CLOSED_LIPS_APERTURE).float()
    opened = (target_gap > 2 * OPEN).float()
    too_open = (torch.relu(pred_gap - SEALED) * closed).sum() / closed.sum().clamp(min=1.0)
    too_shut = (torch.relu(OPEN - pred_gap) * opened).sum() / opened.sum().clamp(min=1.0)
    return too_open + open_side * too_shut


def losses(
    out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], w: LossWeights
) -> dict[str, torch.Tensor]:
    """Every loss term and their weighted total."""
    pred, target = out["channels"], batch["channels"]
    channel = (pred - target).abs().mean()
    velocity = (pred.diff(dim=1) - target.diff(dim=1)).abs().mean()
    class_weights = torch.ones(len(VISEMES), device=pred.device)
    for name, weight in w.viseme_classes.items():
        class_weights[VISEME_INDEX[name]] = weight
    viseme = -(batch["visemes"] * class_weights * out["viseme_logits"].log_softmax(-1)).sum(-1).mean()
    closure = closure_loss(pred, target, w.open_side)
    phone = torch.nn.functional.cross_entropy(out["phone_logits"].flatten(0, 1), batch["phones"].flatten())
    total = (
        w.channels * channel
        + w.velocity * velocity
        + w.visemes * viseme
        + w.phones * phone
        + w.closure * closure
    )
    return {
        "total": total,
        "channels": channel,
        "velocity": velocity,
        "visemes": viseme,
        "phones": phone,
        "closure": closure,
    }


def mixed_precision(device: str, precision: str) -> tuple[str, contextlib.AbstractContextManager]:
    """The precision to train in and a context that applies it to the forward pass.

    ``auto`` is bf16 on a GPU that has it (large configs train about twice as fast, and
    bf16 keeps fp32's range, so no loss scaling) and fp32 elsewhere.
    """
    if precision == "auto":
        gpu = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        precision = "bf16" if gpu else "fp32"
    if precision == "fp32":
        return precision, contextlib.nullcontext()
    return precision, torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def to_tensors(batch: dict[str, np.ndarray], device: str = "cpu") -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in batch.items()}


@torch.no_grad()
def evaluate(model: LipSyncModel, batches: list[dict[str, torch.Tensor]], w: LossWeights) -> dict[str, float]:
    """Mean losses, frame viseme accuracy and jawOpen correlation on fixed held-out windows."""
    model.eval()
    sums: dict[str, float] = {}
    hits = frames = 0
    jaw_pred, jaw_ref = [], []
    sealed = shut = opened = false_shut = 0
    for batch in batches:
        out = model(batch["audio"], batch["style"])
        for name, value in losses(out, batch, w).items():
            sums[name] = sums.get(name, 0.0) + float(value) / len(batches)
        hits += int((out["viseme_logits"].argmax(-1) == batch["visemes"].argmax(-1)).sum())
        frames += batch["visemes"].shape[0] * batch["visemes"].shape[1]
        pred_closed = lip_aperture(out["channels"]) < CLOSED_LIPS_APERTURE
        ref_gap = lip_aperture(batch["channels"])
        shut += int((ref_gap < CLOSED_LIPS_APERTURE).sum())
        sealed += int((pred_closed & (ref_gap < CLOSED_LIPS_APERTURE)).sum())
        opened += int((ref_gap > 2 * OPEN).sum())
        false_shut += int((pred_closed & (ref_gap > 2 * OPEN)).sum())
        jaw_pred.append(out["channels"][..., CHANNEL_INDEX["jawOpen"]].flatten())
        jaw_ref.append(batch["channels"][..., CHANNEL_INDEX["jawOpen"]].flatten())
    model.train()
    jp, jr = torch.cat(jaw_pred), torch.cat(jaw_ref)
    sums["viseme_accuracy"] = hits / frames
    sums["closed_frame_recall"] = sealed / max(shut, 1)
    sums["open_frames_closed"] = false_shut / max(opened, 1)
    sums["jaw_correlation"] = float(torch.corrcoef(torch.stack([jp, jr]))[0, 1])
    return sums


def heldout_batches(
    corpus: Path,
    window_s: float = WINDOW_S,
    batch: int = BATCH,
    count: int = EVAL_BATCHES,
    device: str = "cpu",
) -> tuple[CorpusWindows, list[dict[str, torch.Tensor]]]:
    """The fixed held-out windows every run is scored on (same seed, so runs compare)."""
    heldout = CorpusWindows(corpus, "heldout", window_s=window_s)
    rng = np.random.default_rng(HELDOUT_SEED)
    return heldout, [to_tensors(heldout.batch(rng, batch), device) for _ in range(count)]


def save_checkpoint(folder: Path, model: LipSyncModel, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Weights as safetensors, optimiser state and counters beside them; written atomically."""
    tmp = save_model_folder(model, folder.with_name(folder.name + ".tmp"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps(state))
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        os.replace(folder, old)
        os.replace(tmp, folder)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        os.replace(tmp, folder)


def load_checkpoint(folder: Path, model: LipSyncModel, optimizer: torch.optim.Optimizer) -> dict:
    device = next(model.parameters()).device
    model.load_state_dict(load_file(folder / "model.safetensors", device=str(device)))
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True, map_location=device))
    return json.loads((folder / "state.json").read_text())


def learning_rate(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return float(
        peak * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress)))
    )  # float: torch.load refuses numpy


def seed_step(seed: int, step: int) -> None:
    """Reseed the global generators the network draws from in training: torch's (dropout) and
    numpy's (transformers' wav2vec2 draws its time masks there). Per step, so a resumed run
    takes the same masks as an unbroken one."""
    step_seed = seed * 1_000_003 + step
    torch.manual_seed(step_seed)
    np.random.seed(step_seed % 2**32)


def train(args: argparse.Namespace) -> int:
    if args.open_weight < 0:
        sys.exit(f"--open-weight must be 0 or more, got {args.open_weight}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = (
        "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")
    )
    shares = tuple(_recipe_share(text) for text in args.recipe_share)
    source = BatchSource(
        corpus=args.corpus,
        window_s=args.window,
        augment=args.augment,
        other_languages=args.other_languages,
        batch=args.batch,
        seed=args.seed,
        recipe_shares=shares,
        breath_edges=args.breath_edges,
        loud_sounds=args.loud_sounds,
        joined=args.joined,
    )
    data = source.windows()  # here too: a missing corpus or a bad setting fails before any work
    heldout, eval_batches = heldout_batches(args.corpus, args.window, args.batch, args.eval_batches, device)
    precision, autocast = mixed_precision(device, args.precision)
    overrides = {
        "loudness_input": True,
        **json.loads(args.model),
        "phone_classes": len(PHONE_CLASSES),
        "encoder": str(args.encoder),
    }
    cfg = ModelConfig.from_json({**ModelConfig().to_json(), **overrides})
    _refuse_other_config(out / "last", cfg)
    model = LipSyncModel(cfg).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    weights = LossWeights(viseme_classes=cfg.viseme_loss_weights)  # held-out scores: comparable across runs
    train_weights = replace(weights, open_side=args.open_weight)
    state = {"step": 0, "best": None, "since_best": 0, "seconds": 0.0}
    if (out / "last").is_dir():
        state = load_checkpoint(out / "last", model, optimizer)
        print(f"resumed from step {state['step']}", flush=True)
    elif args.init:
        _start_from(Path(args.init), model, cfg)
    print(
        f"train {data.hours:.1f} h, held-out {heldout.hours:.2f} h; encoder {cfg.encoder}, "
        f"{sum(p.numel() for p in trainable) / 1e6:.2f} M trainable parameters; {device}, {precision}",
        flush=True,
    )
    log = (out / "log.jsonl").open("a")
    workers = default_workers(device) if args.loader_workers is None else args.loader_workers
    clock = window_start = time.time()
    for arrays in batches(source, state["step"], args.steps, workers, windows=data):
        batch = to_tensors(arrays, device)
        seed_step(args.seed, state["step"])
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(state["step"], args.lr, args.warmup, args.steps)
        with autocast:
            pred = model(batch["audio"], batch["style"])
        terms = losses({k: v.float() for k, v in pred.items()}, batch, train_weights)  # in fp32
        optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state["step"] += 1
        now = time.time()
        state["seconds"] += now - clock
        clock = now
        if state["step"] % args.log_every == 0:
            audio_s = args.batch * args.window * args.log_every
            record = {
                "step": state["step"],
                **{k: round(v.item(), 4) for k, v in terms.items()},
                "lr": optimizer.param_groups[0]["lr"],
                "audio_s_per_s": round(audio_s / max(1e-9, time.time() - window_start), 1),
            }
            _log(log, record)
            window_start = time.time()
        due = state["step"] % args.eval_every == 0 or state["step"] == args.steps
        if due and _evaluate_and_keep_best(model, optimizer, eval_batches, weights, state, out, log, args):
            break
        if state["step"] % args.ckpt_every == 0:
            save_checkpoint(out / "last", model, optimizer, state)
    save_checkpoint(out / "last", model, optimizer, state)
    return 0


def _evaluate_and_keep_best(model, optimizer, eval_batches, weights, state, out, log, args) -> bool:
    """Score held-out windows, keep the best model; True when early stopping triggers."""
    scores = evaluate(model, eval_batches, weights)
    record = {"step": state["step"], "heldout": {k: round(v, 4) for k, v in scores.items()}}
    _log(log, record)
    if state["best"] is None or scores["total"] < state["best"]:
        state["best"], state["since_best"] = scores["total"], 0
        save_checkpoint(out / "best", model, optimizer, state)
    else:
        state["since_best"] += 1
    return state["since_best"] >= args.patience


def _start_from(folder: Path, model: LipSyncModel, cfg: ModelConfig) -> None:
    """Fine-tuning: weights of a trained model folder; optimiser and schedule start afresh.

    A model without the loudness input can seed one with it: the decoder's new input
    columns start at zero, so training begins from exactly the old model's output.
    """
    try:
        saved, weights = load_model_folder(folder)
    except ModelFileError as exc:
        sys.exit(f"--init: {exc}")
    # A fine-tune may add the loudness input, and switch the input filter (no weights) either way.
    grown = replace(saved, loudness_input=cfg.loudness_input).weights_config()
    if grown != cfg.weights_config() or saved.loudness_input > cfg.loudness_input:
        sys.exit(f"--init {folder} has another model config; pass the same --encoder/--model")
    current = model.state_dict()
    for name, value in weights.items():
        if value.shape != current[name].shape:  # the decoder input, grown by the loudness columns
            grown = torch.zeros_like(current[name])
            grown[:, : value.shape[1]] = value
            weights[name] = grown
    model.load_state_dict(weights)
    print(f"initialised from {folder}", flush=True)


def _refuse_other_config(folder: Path, cfg: ModelConfig) -> None:
    """Resuming with another architecture would silently mix two runs: refuse it."""
    saved = folder / "config.json"
    if saved.is_file() and ModelConfig.from_json(json.loads(saved.read_text())) != cfg:
        sys.exit(f"{folder.parent} holds a run with another model config ({saved}); use another --out")


def _recipe_share(text: str) -> tuple[str, float]:
    name, _, share = text.partition("=")
    try:
        return name, float(share)
    except ValueError:
        sys.exit(f"--recipe-share takes RECIPE=SHARE, e.g. kokoro=0.2; got {text!r}")


def _log(log, record: dict) -> None:
    print(json.dumps(record), flush=True)
    log.write(json.dumps(record) + "\n")
    log.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="build.py train", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "train" / "run")
    p.add_argument(
        "--encoder",
        default="wav2vec2",
        help="wav2vec2 (trained from scratch), logmel (the CNN control), or the folder of a "
        "pretrained Hugging Face wav2vec2 (safetensors; kept frozen, the decoder is trained)",
    )
    p.add_argument(
        "--model", default="{}", help="ModelConfig overrides as JSON, e.g. '{\"hidden_size\": 512}'"
    )
    p.add_argument(
        "--init",
        help="fine-tune: start from this model folder's weights (config.json + model.safetensors), "
        "with a fresh optimiser and schedule; ignored when --out already holds a run to resume",
    )
    p.add_argument(
        "--augment",
        type=float,
        default=0.8,
        help="strength (0-1) of the on-the-fly speed/reverb/EQ/band/noise/gain chain; 0 turns it off",
    )
    p.add_argument(
        "--breath-edges",
        type=float,
        default=0.0,
        help="share (0-1) of the chain's breaths and clicks put right at a speech edge (an inhale "
        "just before speech, an exhale or lip smack just after) instead of inside the pause",
    )
    p.add_argument(
        "--loud-sounds",
        type=float,
        default=0.0,
        help="share (0-1) of the pauses that get a loud cough or sniff (0-12 dB under the speech) "
        "instead of a breath or click, as a talker with a cold or a close microphone gives them",
    )
    p.add_argument(
        "--joined",
        type=float,
        default=0.0,
        help="share (0-1) of windows cut from an utterance joined with the next ones by the same "
        "voice, so that windows run across phrase ends and pauses as they do in long recordings",
    )
    p.add_argument(
        "--other-languages",
        type=float,
        help="share (0-1) of training windows drawn from non-English speech (default: their share of hours)",
    )
    p.add_argument(
        "--recipe-share",
        action="append",
        default=[],
        metavar="RECIPE=SHARE",
        help="share (0-1) of training windows drawn from one corpus recipe, e.g. kokoro=0.2 (repeatable)",
    )
    p.add_argument(
        "--open-weight",
        type=float,
        default=1.0,
        help="weight of the closure hinge's open side (lips shut on a clearly open teacher frame) "
        "in training; held-out scores keep 1",
    )
    p.add_argument("--steps", type=int, default=12000)
    p.add_argument("--batch", type=int, default=BATCH)
    p.add_argument("--window", type=float, default=WINDOW_S, help="seconds of audio per example")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="auto: bf16 mixed precision on a GPU that has it, fp32 on a CPU",
    )
    p.add_argument(
        "--loader-workers",
        type=int,
        help="processes drawing training batches (default: 0 on a CPU, one background thread; "
        "all cores but one beside a GPU)",
    )
    p.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-batches", type=int, default=EVAL_BATCHES)
    p.add_argument("--ckpt-every", type=int, default=200)
    p.add_argument("--patience", type=int, default=8)
    return train(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

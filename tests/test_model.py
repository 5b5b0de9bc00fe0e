"""The network's contract: frame alignment, output ranges, style conditioning, resumable training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from blender_lipsync.core.contract import MOUTH_CHANNELS, VISEMES
from blender_lipsync.core.model import LipSyncModel, ModelConfig, pad_for_features
from blender_lipsync.core.style import STYLE_DIM, Style
from lipsync_train import corpus, train
from lipsync_train.dataset import PHONE_CLASSES, CorpusWindows, phone_ids
from lipsync_train.phonemes import Phone

SMALL = ModelConfig(
    hidden_size=64,
    encoder_layers=1,
    attention_heads=2,
    intermediate_size=128,
    conv_dim=(16, 16, 16, 16, 16, 16, 32),
    decoder_dim=32,
    decoder_layers=2,
    phone_classes=len(PHONE_CLASSES),
)


def test_one_output_frame_per_20ms_in_range() -> None:
    torch.manual_seed(0)
    model = LipSyncModel(SMALL).eval()
    for samples in (16000, 16000 * 3 + 123, 640):
        out = model(torch.randn(2, samples) * 0.1, torch.zeros(2, STYLE_DIM))
        frames = samples // 320
        assert out["channels"].shape == (2, frames, len(MOUTH_CHANNELS))
        assert out["viseme_logits"].shape == (2, frames, len(VISEMES))
        assert out["phone_logits"].shape == (2, frames, len(PHONE_CLASSES))
        assert float(out["channels"].min()) >= 0.0 and float(out["channels"].max()) <= 1.0


def test_feature_j_is_centred_on_instant_j_over_50() -> None:
    """The padded conv stack's feature 50 sees exactly the samples 1.0 s +- 12.5 ms."""
    from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2FeatureEncoder

    config = SMALL.wav2vec2_config()
    config.feat_extract_norm = "layer"  # per-frame norm: no mixing over time, so the span is exact
    conv = Wav2Vec2FeatureEncoder(config).eval()  # train mode re-flags its input for gradients
    torch.manual_seed(0)
    audio = (0.1 * torch.randn(1, 32000)).requires_grad_()
    features = conv(pad_for_features(audio))
    (features[0, :, 50] * torch.randn(features.shape[1])).sum().backward()  # a plain sum cancels in LayerNorm
    span = torch.nonzero(audio.grad[0].abs() > 0).flatten()
    assert int(span.min()) == 16000 - 200 and int(span.max()) == 16000 + 199


def test_style_film_starts_neutral_and_changes_output_once_trained() -> None:
    model = LipSyncModel(SMALL).eval()
    audio = torch.randn(1, 16000) * 0.1
    a = model(audio, torch.zeros(1, STYLE_DIM))["channels"]
    b = model(audio, torch.from_numpy(Style(jaw=1.8).to_vector())[None])["channels"]
    assert torch.allclose(a, b)  # FiLM is initialised to identity
    for film in model.decoder.films:
        torch.nn.init.normal_(film.proj.weight, std=0.5)
    c = model(audio, torch.from_numpy(Style(jaw=1.8).to_vector())[None])["channels"]
    assert not torch.allclose(a, c)


def test_phone_ids_follow_the_timeline() -> None:
    phones = [Phone("_", 0.0, 0.1), Phone("b", 0.1, 0.2), Phone("ɑ", 0.2, 0.5)]
    ids = phone_ids(phones, np.array([0.0, 0.12, 0.2, 0.49, 0.6]))
    assert [PHONE_CLASSES[i] for i in ids] == ["_", "b", "ɑ", "ɑ", "ɑ"]


@pytest.mark.slow
def test_training_loop_checkpoints_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three optimiser steps on a tiny real corpus: mechanics only, not a trained model."""
    for i, recipe in enumerate(
        r for r in corpus.default_recipes(0.004) if r.name in ("diphone", "heldout-ked")
    ):
        corpus.run_job(corpus.Job(i, recipe, 0, seed=1), tmp_path / "corpus")
    windows = CorpusWindows(tmp_path / "corpus", "train", window_s=1.0)
    batch = windows.batch(np.random.default_rng(0), 2)
    assert batch["audio"].shape == (2, 16000) and batch["channels"].shape == (2, 50, len(MOUTH_CHANNELS))
    monkeypatch.setattr(train, "ModelConfig", lambda phone_classes: SMALL)
    args = [
        "--corpus",
        str(tmp_path / "corpus"),
        "--out",
        str(tmp_path / "run"),
        "--batch",
        "1",
        "--window",
        "1",
        "--log-every",
        "1",
        "--eval-every",
        "2",
        "--eval-batches",
        "1",
        "--ckpt-every",
        "1",
        "--threads",
        "1",
    ]
    assert train.main([*args, "--steps", "2"]) == 0
    state = json.loads((tmp_path / "run" / "last" / "state.json").read_text())
    assert state["step"] == 2 and (tmp_path / "run" / "best" / "model.safetensors").is_file()
    assert train.main([*args, "--steps", "3"]) == 0
    assert json.loads((tmp_path / "run" / "last" / "state.json").read_text())["step"] == 3
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "total" in r] == [1, 2, 3]

"""The network's contract: frame alignment, output ranges, style conditioning, resumable training."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from blender_lipsync.core import model as model_module
from blender_lipsync.core.contract import MOUTH_CHANNELS, VISEMES
from blender_lipsync.core.model import (
    RUMBLE_BOX_FACTOR,
    LipSyncModel,
    ModelConfig,
    loudness_features,
    pad_for_features,
    remove_rumble,
)
from blender_lipsync.core.style import STYLE_DIM, Style
from lipsync_train import augment, train
from lipsync_train.dataset import PHONE_CLASSES, CorpusWindows, phone_ids
from lipsync_train.phonemes import Phone
from tests.small_model import SMALL


def test_one_output_frame_per_20ms_in_range() -> None:
    torch.manual_seed(0)
    model = LipSyncModel(SMALL).eval()
    for samples in (16000, 16000 * 3 + 123, 640):
        with torch.no_grad():
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


def test_conv_features_are_local_so_chunking_has_no_seams() -> None:
    model = LipSyncModel(SMALL).eval()
    quiet = torch.randn(1, 64000) * 0.05
    loud_start = quiet.clone()
    loud_start[0, :16000] = torch.randn(16000) * 0.8
    with torch.no_grad():
        a = model.encoder.feature_extractor(pad_for_features(quiet))
        b = model.encoder.feature_extractor(pad_for_features(loud_start))
    assert torch.equal(a[..., 100:], b[..., 100:])  # 2 s later nothing changed
    assert not torch.equal(a[..., :40], b[..., :40])


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


def test_logmel_control_features_are_centred_like_wav2vec2() -> None:
    torch.manual_seed(0)
    model = LipSyncModel(ModelConfig(encoder="logmel", hidden_size=32, logmel_layers=3)).eval()
    audio = (0.1 * torch.randn(1, 32000)).requires_grad_()
    features = model.encode(audio)
    assert features.shape == (1, 100, 32)
    (features[0, 50] * torch.randn(32)).sum().backward()
    span = torch.nonzero(audio.grad[0].abs() > 0).flatten()
    assert abs((int(span.min()) + int(span.max())) / 2 - 16000) <= 1


def _train_args(corpus_root: Path, out: Path) -> list[str]:
    return [
        "--corpus",
        str(corpus_root),
        "--out",
        str(out),
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
        "--warmup",
        "1",  # so resuming also meets the cosine part of the learning-rate schedule
        "--model",
        json.dumps(SMALL.to_json()),
    ]


def test_closure_hinge_seals_teacher_seals_and_opens_its_open_frames() -> None:
    from blender_lipsync.core.contract import CHANNEL_INDEX

    target = torch.zeros(1, 2, len(MOUTH_CHANNELS))  # frame 0 sealed, frame 1 clearly open
    target[0, 1, CHANNEL_INDEX["jawOpen"]] = 0.8
    assert train.closure_loss(target, target) == 0
    pred = target.flip(1)  # open where the teacher seals, shut where it opens
    too_open, too_shut = 0.8 - train.SEALED, train.OPEN  # each side's hinge, one frame each
    assert train.closure_loss(pred, target).item() == pytest.approx(too_open + too_shut)
    assert train.closure_loss(pred, target, open_side=3.0).item() == pytest.approx(too_open + 3 * too_shut)
    with pytest.raises(SystemExit, match="--open-weight must be 0 or more"):
        train.main(["--open-weight", "-1"])


@pytest.mark.slow
def test_training_loop_checkpoints_and_resumes(tiny_corpus: Path, tmp_path: Path) -> None:
    """Three optimiser steps on a tiny real corpus: mechanics only, not a trained model."""
    windows = CorpusWindows(tiny_corpus, "train", window_s=1.0)
    batch = windows.batch(np.random.default_rng(0), 2)
    assert batch["audio"].shape == (2, 16000) and batch["channels"].shape == (2, 50, len(MOUTH_CHANNELS))
    args = _train_args(tiny_corpus, tmp_path / "run")
    assert train.main([*args, "--steps", "2"]) == 0
    state = json.loads((tmp_path / "run" / "last" / "state.json").read_text())
    assert state["step"] == 2 and (tmp_path / "run" / "best" / "model.safetensors").is_file()
    assert train.main([*args, "--steps", "3"]) == 0
    assert json.loads((tmp_path / "run" / "last" / "state.json").read_text())["step"] == 3
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "total" in r] == [1, 2, 3]


@pytest.mark.slow
def test_a_resumed_run_ends_with_the_weights_of_an_unbroken_one(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropout and wav2vec2's time masks draw from global generators: reseeded per step, an
    interrupted run goes on with the masks the unbroken run used."""
    assert SMALL.dropout > 0 and SMALL.wav2vec2_config().mask_time_prob > 0  # there is randomness to keep
    unbroken, broken = tmp_path / "unbroken", tmp_path / "broken"
    assert train.main([*_train_args(tiny_corpus, unbroken), "--steps", "3"]) == 0
    all_batches = train.batches

    def stop_after_two(source, start, stop, *args, **kwargs):  # the run is killed after step 2
        return all_batches(source, start, min(stop, 2), *args, **kwargs)

    monkeypatch.setattr(train, "batches", stop_after_two)
    assert train.main([*_train_args(tiny_corpus, broken), "--steps", "3"]) == 0
    assert json.loads((broken / "last" / "state.json").read_text())["step"] == 2
    monkeypatch.setattr(train, "batches", all_batches)
    np.random.seed(12345)  # whatever the process drew in between
    torch.manual_seed(12345)
    assert train.main([*_train_args(tiny_corpus, broken), "--steps", "3"]) == 0
    expected = load_file(unbroken / "last" / "model.safetensors")
    resumed = load_file(broken / "last" / "model.safetensors")
    assert expected.keys() == resumed.keys()
    for name, value in expected.items():
        assert torch.equal(resumed[name], value), name


@pytest.mark.slow
def test_pretrained_encoder_folder_is_frozen_and_decoder_trains(tiny_corpus: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file
    from transformers import Wav2Vec2Model

    folder = tmp_path / "my-wav2vec2"
    Wav2Vec2Model(SMALL.wav2vec2_config()).save_pretrained(folder, safe_serialization=True)
    assert (folder / "model.safetensors").is_file()
    run = tmp_path / "run"
    assert train.main([*_train_args(tiny_corpus, run), "--encoder", str(folder), "--steps", "2"]) == 0
    before = load_file(folder / "model.safetensors")
    after = load_file(run / "last" / "model.safetensors")
    for name, value in before.items():
        assert torch.equal(after["encoder." + name], value), name
    torch.manual_seed(0)
    fresh = LipSyncModel(ModelConfig.from_json({**SMALL.to_json(), "encoder": str(folder)})).state_dict()
    assert not torch.equal(after["decoder.channels.weight"], fresh["decoder.channels.weight"])
    # resuming the run with another encoder is refused, not silently mixed
    with pytest.raises(SystemExit):
        train.main([*_train_args(tiny_corpus, run), "--encoder", "logmel", "--steps", "3"])


@pytest.mark.slow
def test_fine_tuning_starts_from_a_model_folder(tiny_corpus: Path, tmp_path: Path) -> None:
    from blender_lipsync.core.inference import save_model_folder

    torch.manual_seed(1)
    base_model = LipSyncModel(SMALL)
    with torch.no_grad():
        base_model.decoder.channels.bias += 3.0  # a mark no fresh initialisation has
    base = save_model_folder(base_model, tmp_path / "base")
    tuned = tmp_path / "tuned"
    assert train.main([*_train_args(tiny_corpus, tuned), "--init", str(base), "--steps", "1"]) == 0
    after = load_file(tuned / "last" / "model.safetensors")["decoder.channels.bias"]
    start = base_model.decoder.channels.bias.detach()
    assert float((after - start).abs().max()) < 0.01  # one small step away from the base weights
    assert json.loads((tuned / "last" / "state.json").read_text())["step"] == 1
    with pytest.raises(SystemExit):  # another architecture is refused
        train.main([*_train_args(tiny_corpus, tmp_path / "x"), "--init", str(base), "--encoder", "logmel"])


def test_a_model_without_loudness_seeds_one_with_it_unchanged(tmp_path: Path) -> None:
    from blender_lipsync.core.inference import save_model_folder

    torch.manual_seed(2)
    old = LipSyncModel(replace(SMALL, loudness_input=False)).eval()
    base = save_model_folder(old, tmp_path / "base")
    grown = LipSyncModel(SMALL)
    train._start_from(base, grown, SMALL)
    audio, style = torch.randn(1, 32000) * 0.1, torch.zeros(1, STYLE_DIM)
    with torch.no_grad():
        assert torch.allclose(
            grown.eval()(audio, style)["channels"], old(audio, style)["channels"], atol=1e-6
        )
    with pytest.raises(SystemExit):  # and not the other way round
        train._start_from(save_model_folder(grown, tmp_path / "grown"), old, old.cfg)


def test_loudness_features_are_centred_and_relative() -> None:
    audio = torch.zeros(1, 48000)
    audio[0, 15840:16160] = torch.randn(320)  # a 20 ms burst centred on 1.0 s
    audio[0, 24000:32000] = 0.01 * torch.randn(8000)  # a quiet stretch, 40 dB down, 1.5-2 s
    feats = loudness_features(audio, 150)
    assert feats.shape == (1, 150, 2) and feats.min() >= 0 and feats.max() <= 1
    assert int(feats[0, :, 0].argmax()) == 50
    assert float(feats[0, 85, 1]) == 0.0  # 40 dB under the burst 0.7 s away reads as silent
    assert float(feats[0, 85, 0]) > 0.2  # though it is not digital silence
    quieter = loudness_features(audio * 0.1, 150)
    assert torch.allclose(quieter[..., 1], feats[..., 1], atol=1e-4)  # relative level ignores gain
    assert torch.allclose(quieter[0, 50, 0], feats[0, 50, 0] - 20 / 70, atol=1e-4)


def _crop(audio: np.ndarray, start: int, frames: int) -> np.ndarray:
    """``frames`` 20 ms frames of ``audio`` from frame ``start``, zero-padded like the dataset's."""
    piece = audio[start * 320 : (start + frames) * 320]
    return np.pad(piece, (0, frames * 320 - len(piece)))


def test_on_the_fly_speed_change_moves_the_labels_with_the_audio(
    tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The targets and phone labels come from the sped-up timeline, not the stored one."""
    from lipsync_train import dataset

    calls = []

    def faster(audio, sr, phones, factor):  # always 1.25x, and remember what it returned
        out = augment.speed_perturb(audio, sr, phones, 1.25)
        calls.append(out)
        return out

    monkeypatch.setattr(dataset, "speed_perturb", faster)
    monkeypatch.setattr(dataset, "channel_chain", lambda audio, sr, rng, strength: (audio, {}))
    monkeypatch.setattr(dataset, "add_breaths", lambda audio, sr, silent, rng, *shares: (audio, 0))
    windows = CorpusWindows(tiny_corpus, "train", window_s=1.0, augment=1.0)
    checked = 0
    for seed in range(10):
        calls.clear()
        example = windows.example(np.random.default_rng(seed))
        if not calls:
            continue  # this draw kept the stored speed
        audio, phones = calls[0]
        frames = len(example.phones)
        starts = [
            s
            for s in range(max(1, len(audio) // 320 - frames + 1))
            if np.array_equal(_crop(audio, s, frames), example.audio)
        ]
        assert starts, "the window is not a crop of the sped-up audio"
        times = (starts[0] + np.arange(frames)) / 50
        assert np.array_equal(example.phones, phone_ids(phones, times))
        checked += 1
    assert checked >= 2


def test_pause_sound_shares_reach_the_breaths_and_are_bounded(
    tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lipsync_train import dataset

    seen = []
    monkeypatch.setattr(
        dataset,
        "add_breaths",
        lambda audio, sr, silent, rng, strength, edges, loud: (seen.append((edges, loud)), (audio, 0))[1],
    )
    CorpusWindows(tiny_corpus, "train", window_s=1.0, augment=0.8, breath_edges=0.5, loud_sounds=0.3).example(
        np.random.default_rng(0)
    )
    CorpusWindows(tiny_corpus, "train", window_s=1.0, augment=0.8).example(np.random.default_rng(0))
    assert seen == [(0.5, 0.3), (0.0, 0.0)]
    with pytest.raises(ValueError, match="breath_edges must be between 0 and 1"):
        CorpusWindows(tiny_corpus, "train", breath_edges=1.5)
    with pytest.raises(ValueError, match="loud_sounds must be between 0 and 1"):
        CorpusWindows(tiny_corpus, "train", loud_sounds=-0.1)


def test_joined_utterances_share_one_timeline() -> None:
    from lipsync_train.dataset import join_utterances
    from lipsync_train.phonemes import SILENCE, Phone

    a = (np.ones(8000, np.float32), [Phone(SILENCE, 0, 0.1), Phone("m", 0.1, 0.4), Phone(SILENCE, 0.4, 0.5)])
    b = (np.zeros(4000, np.float32), [Phone(SILENCE, 0, 0.05), Phone("a", 0.05, 0.25)])
    audio, phones = join_utterances([a, b])
    assert len(audio) == 12000 and audio[7999] == 1 and audio[8000] == 0
    pause = Phone(SILENCE, 0.4, 0.55)  # a's closing pause and b's opening one, merged
    assert phones == [Phone(SILENCE, 0, 0.1), Phone("m", 0.1, 0.4), pause, Phone("a", 0.55, 0.75)]


def test_joined_windows_run_on_with_the_same_voice(tiny_corpus: Path) -> None:
    from lipsync_train.augment import active_power
    from lipsync_train.dataset import JOIN_MAX, level_matched

    windows = CorpusWindows(tiny_corpus, "train", window_s=1.0, joined=1.0)
    entries, two_windows = windows.entries, 2 * 16000
    for index in range(len(entries)):
        run = windows._run_from(index)
        assert run == entries[index : index + len(run)] and len(run) <= JOIN_MAX
        assert {(e.shard, e.voice, e.lang) for e in run} == {(run[0].shard, run[0].voice, run[0].lang)}
        assert sum(e.samples for e in run[:-1]) < two_windows  # stops once two windows long
        nxt = index + len(run)
        if sum(e.samples for e in run) < two_windows and len(run) < JOIN_MAX and nxt < len(entries):
            assert (entries[nxt].shard, entries[nxt].voice) != (run[0].shard, run[0].voice)
    assert max(len(windows._run_from(i)) for i in range(len(entries))) > 1  # the tiny corpus joins some
    joined = next(run for run in map(windows._run_from, range(len(entries))) if len(run) > 1)
    parts = [(windows._audio(e), e.phones) for e in joined]
    levels = [active_power(audio, 16000) for audio, _ in level_matched(parts)]
    assert levels == pytest.approx([levels[0]] * len(levels), rel=1e-3)  # one talker, one level
    example = windows.example(np.random.default_rng(0))
    assert example.audio.shape == (16000,) and example.channels.shape == (50, len(MOUTH_CHANNELS))
    with pytest.raises(ValueError, match="joined must be between 0 and 1"):
        CorpusWindows(tiny_corpus, "train", joined=1.5)


def _entries(*specs: tuple[str, int]) -> list:
    from lipsync_train.dataset import _Entry

    return [_Entry(Path("shard.pcm"), 0, samples, [], lang) for lang, samples in specs]


def test_draw_weights_follow_hours_unless_a_language_share_is_asked() -> None:
    from lipsync_train.dataset import draw_weights

    entries = _entries(("en-us", 300), ("en-gb", 500), ("de", 100), ("fi", 100))
    assert np.allclose(draw_weights(entries), [0.3, 0.5, 0.1, 0.1])
    shared = draw_weights(entries, other_languages=0.4)
    assert np.isclose(shared[2:].sum(), 0.4) and np.isclose(shared.sum(), 1.0)
    assert np.isclose(shared[1] / shared[0], 5 / 3) and np.isclose(shared[2], shared[3])  # hours, per group
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            draw_weights(entries, other_languages=bad)
    with pytest.raises(ValueError, match="both English and other-language"):
        draw_weights(_entries(("en-us", 300)), other_languages=0.3)


def test_training_precision_is_fp32_on_a_cpu_and_bf16_on_request() -> None:
    assert train.mixed_precision("cpu", "auto")[0] == "fp32"
    precision, autocast = train.mixed_precision("cpu", "bf16")
    with autocast:
        product = torch.ones(2, 2) @ torch.ones(2, 2)
    assert precision == "bf16" and product.dtype == torch.bfloat16


def test_recipe_shares_set_the_draws_of_the_named_recipes() -> None:
    from lipsync_train.dataset import _Entry, draw_weights

    entries = [
        _Entry(Path("s"), 0, samples, [], "en-us", recipe)
        for samples, recipe in ((300, "flite"), (600, "flite"), (100, "kokoro"))
    ]
    weights = draw_weights(entries, recipe_shares={"kokoro": 0.25})
    assert np.allclose(weights, [0.25, 0.5, 0.25])  # the others keep their proportions
    with pytest.raises(ValueError, match="no utterances of recipe"):
        draw_weights(entries, recipe_shares={"piper": 0.2})
    with pytest.raises(ValueError, match="less than 1"):
        draw_weights(entries, recipe_shares={"kokoro": 0.6, "flite": 0.5})


def test_weighted_viseme_loss_skews_probabilities_by_the_weights_inference_undoes() -> None:
    from blender_lipsync.core.inference import undo_class_weights

    cfg = ModelConfig()
    assert cfg.viseme_loss_weights["PP"] > 1  # what the test is about: a class weighted up
    target = torch.tensor(np.random.default_rng(0).dirichlet(np.ones(len(VISEMES)), size=4)).float()
    frames = target.shape[0]
    logits = torch.zeros(1, frames, len(VISEMES), requires_grad=True)
    batch = {
        "channels": torch.zeros(1, frames, len(MOUTH_CHANNELS)),
        "visemes": target[None],
        "phones": torch.zeros(1, frames, dtype=torch.long),
    }
    weights = train.LossWeights(viseme_classes=cfg.viseme_loss_weights)
    optimizer = torch.optim.Adam([logits], lr=0.05)
    for _ in range(1500):  # the minimum of the training loss over free logits
        out = {
            "channels": torch.zeros(1, frames, len(MOUTH_CHANNELS)),
            "viseme_logits": logits,
            "phone_logits": torch.zeros(1, frames, len(PHONE_CLASSES)),
        }
        optimizer.zero_grad()
        train.losses(out, batch, weights)["total"].backward()
        optimizer.step()
    learned = logits.detach()[0].softmax(-1).numpy()
    pp = VISEMES.index("PP")
    assert np.all(learned[:, pp] > target[:, pp].numpy() * 1.5)  # weighted: PP comes out too likely
    assert np.allclose(undo_class_weights(learned, cfg.viseme_loss_weights), target.numpy(), atol=2e-3)


def test_model_configs_record_the_viseme_loss_weights(tmp_path: Path) -> None:
    from blender_lipsync.core.inference import ModelFileError, load_model_folder, save_model_folder

    model = LipSyncModel(replace(SMALL, viseme_loss_weights={"PP": 4.0}))
    save_model_folder(model, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["viseme_loss_weights"] == {"PP": 4.0}
    assert load_model_folder(tmp_path)[0].viseme_loss_weights == {"PP": 4.0}
    older = json.loads((tmp_path / "config.json").read_text())
    del older["viseme_loss_weights"]  # written before the field existed: trained with the default
    assert ModelConfig.from_json(older).viseme_loss_weights == {"PP": 3.0, "FF": 2.0}
    for bad in ({"XX": 2.0}, {"PP": 0.0}, ["PP", 3.0]):
        (tmp_path / "config.json").write_text(json.dumps({**older, "viseme_loss_weights": bad}))
        with pytest.raises(ModelFileError, match="viseme_loss_weights must map"):
            load_model_folder(tmp_path)


def _gain_db(x: torch.Tensor, y: torch.Tensor) -> float:
    middle = slice(x.shape[-1] // 4, 3 * x.shape[-1] // 4)  # away from the ends
    return float(10 * torch.log10((y[..., middle] ** 2).mean() / (x[..., middle] ** 2).mean()))


@pytest.mark.parametrize(
    ("hz", "low", "high"),
    [
        (5, -45, -39),
        (20, -20, -17),
        (60, -3.5, -2.5),
        (85, -0.5, 0.05),
        (150, -0.5, 0.05),
        (3000, -0.05, 0.05),
    ],
)
def test_rumble_filter_response(hz: float, low: float, high: float) -> None:
    tone = torch.sin(2 * torch.pi * hz * torch.arange(4 * 16000) / 16000)[None]
    assert low <= _gain_db(tone, remove_rumble(tone, 60.0)) <= high


def test_rumble_filter_is_the_input_minus_a_centred_triangle() -> None:
    x = np.random.default_rng(4).standard_normal(3000) + 0.3  # with a DC offset
    box = round(RUMBLE_BOX_FACTOR * 16000 / 60.0)
    triangle = np.convolve(np.ones(box), np.ones(box)) / box**2
    want = x - np.convolve(np.pad(x, box - 1, mode="edge"), triangle, mode="valid")
    got = remove_rumble(torch.from_numpy(x).float()[None], 60.0)[0].numpy()
    assert got.shape == x.shape and np.abs(got - want).max() <= 1e-5
    assert remove_rumble(torch.zeros(1, 0), 60.0).shape == (1, 0)
    for n in (1, 2, 50):  # shorter than the filter: same length, the offset gone
        assert remove_rumble(torch.full((1, n), 0.5), 60.0).abs().max() < 1e-6


@pytest.mark.parametrize("box", [2, 7, 155, 160])  # prime ones take the unfactored path
def test_factored_box_mean_equals_pooling(box: int) -> None:
    x = torch.randn(2, 1, 3000)
    want = torch.nn.functional.avg_pool1d(x, box, 1)
    assert torch.allclose(model_module._box_mean(x, box), want, atol=1e-6)


def test_old_configs_have_no_rumble_filter_and_a_fine_tune_may_add_it(tmp_path: Path) -> None:
    from blender_lipsync.core.inference import ModelFileError, load_model_folder, save_model_folder

    older = ModelConfig().to_json()
    del older["rumble_cutoff_hz"]  # written before the field existed: trained without the filter
    assert ModelConfig.from_json(older).rumble_cutoff_hz == 0.0
    assert (
        ModelConfig.from_json(ModelConfig().to_json()).rumble_cutoff_hz == ModelConfig().rumble_cutoff_hz > 0
    )
    base = save_model_folder(LipSyncModel(replace(SMALL, rumble_cutoff_hz=0.0)), tmp_path / "base")
    config = json.loads((base / "config.json").read_text())
    for bad in ("60", -5.0, 1e4, None):
        (tmp_path / "bad").mkdir(exist_ok=True)
        (tmp_path / "bad" / "model.safetensors").write_bytes((base / "model.safetensors").read_bytes())
        (tmp_path / "bad" / "config.json").write_text(json.dumps({**config, "rumble_cutoff_hz": bad}))
        with pytest.raises(ModelFileError, match="rumble_cutoff_hz must be"):
            load_model_folder(tmp_path / "bad")
    filtered = LipSyncModel(SMALL)
    train._start_from(base, filtered, SMALL)  # no SystemExit: the filter has no weights
    assert filtered.cfg.rumble_cutoff_hz == 60.0

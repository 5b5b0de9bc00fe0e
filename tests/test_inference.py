"""The inference API on real audio: any fps and format, no chunk seams, cached re-styling, safe loading."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf
import torch

from blender_lipsync.core.audio import load_audio
from blender_lipsync.core.contract import (
    CHANNEL_INDEX,
    LIP_OPENING_CHANNELS,
    MODEL_FPS,
    MOUTH_CHANNELS,
    VISEMES,
    Curves,
    frame_count,
    lip_aperture,
    lips_closed,
    parted,
    sealed,
)
from blender_lipsync.core.inference import (
    LipSync,
    ModelFileError,
    PostProcess,
    TorchBackend,
    post_process,
    resample_curves,
    save_model_folder,
)
from blender_lipsync.core.model import LipSyncModel
from blender_lipsync.core.style import Style
from tests.small_model import SMALL

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "realspeech"


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small untrained network saved the way shipped models are (style made to matter)."""
    torch.manual_seed(0)
    model = LipSyncModel(SMALL)
    for film in model.decoder.films:
        torch.nn.init.normal_(film.proj.weight, std=0.5)
    return save_model_folder(model, tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def backend(model_folder: Path) -> TorchBackend:
    return TorchBackend.from_folder(model_folder, device="cpu")


@pytest.mark.parametrize("fps", [24.0, 23.976, 29.97, 60.0, 12.5])
def test_curves_at_any_fps_cover_the_audio(backend: TorchBackend, fps: float) -> None:
    path = REAL / "mfa_words.wav"
    duration = sf.info(str(path)).duration
    curves = LipSync(backend).curves(path, fps=fps)
    assert curves.fps == fps and curves.frames == frame_count(duration, fps)
    assert curves.channels.shape[1] == len(MOUTH_CHANNELS) and curves.visemes.shape[1] == len(VISEMES)
    assert curves.channels.min() >= 0 and curves.channels.max() <= 1
    np.testing.assert_allclose(curves.visemes.sum(axis=1), 1.0, atol=1e-5)


class _FrameMeans:
    """A backend whose features depend on their own 20 ms only: chunking must not change them."""

    name = "frame means"
    viseme_loss_weights: ClassVar[dict[str, float]] = {}

    def encode(self, audio: np.ndarray) -> np.ndarray:
        frames = len(audio) // 320
        per_frame = audio[: frames * 320].reshape(frames, 320)
        return np.stack([per_frame.mean(axis=1), np.abs(per_frame).max(axis=1)], axis=1)


@pytest.mark.parametrize("crossfade", [False, True])
@pytest.mark.parametrize(("chunk_s", "context_s"), [(4, 1), (2, 1), (1, 1), (0.5, 1), (3, 0), (1000, 3)])
def test_chunks_and_crossfades_cover_every_frame_once(
    crossfade: bool, chunk_s: float, context_s: float
) -> None:
    audio = np.random.default_rng(1).standard_normal(16000 * 13 + 123).astype(np.float32)
    single = _FrameMeans().encode(audio)
    chunked = LipSync(_FrameMeans(), chunk_s=chunk_s, context_s=context_s, crossfade=crossfade)
    np.testing.assert_allclose(chunked.features(audio), single, atol=1e-6)  # blend weights sum to 1


@pytest.mark.parametrize("crossfade", [False, True])
def test_chunked_encoding_matches_a_single_pass(backend: TorchBackend, crossfade: bool) -> None:
    """With context, chunks see what a single pass sees.  (This small untrained network hardly
    attends far.  The shipped one attends across its whole window, so for it any chunking moves
    the curves a little everywhere, not at the joins: MODEL_CARD.md, "Long files".)"""
    audio = load_audio(REAL / "mfa_acoustic_corpus.wav")  # 26.7 s: five chunk boundaries at 5 s
    single = LipSync(backend, chunk_s=1000).model_curves(audio)
    chunked = LipSync(backend, chunk_s=5, context_s=3, crossfade=crossfade).model_curves(audio)
    assert chunked.frames == single.frames == len(audio) // 320
    assert np.abs(chunked.channels - single.channels).max() <= 1e-3
    assert np.abs(chunked.visemes - single.visemes).max() <= 1e-3


def test_rumble_and_dc_offset_do_not_reach_the_encoder(model_folder: Path) -> None:
    """Real speech plus a DC offset, or a 4 Hz rumble, louder than the voice."""
    audio = load_audio(REAL / "lj_LJ001-0002.wav")
    loud = 3 * float(np.sqrt(np.mean(audio**2)))
    rumble = loud * np.sin(2 * np.pi * 4 * np.arange(len(audio)) / 16000)
    filtered = LipSync(TorchBackend.from_folder(model_folder, device="cpu"))
    unfiltered_model = TorchBackend.from_folder(model_folder, device="cpu").model
    unfiltered_model.cfg = replace(unfiltered_model.cfg, rumble_cutoff_hz=0.0)
    unfiltered = LipSync(TorchBackend(unfiltered_model, device="cpu"))

    def change(lipsync: LipSync, extra: np.ndarray) -> float:
        clean = lipsync.model_curves(audio).channels
        return float(np.abs(lipsync.model_curves((audio + extra).astype(np.float32)).channels - clean).mean())

    assert filtered.backend.model.cfg.rumble_cutoff_hz == 60.0
    assert change(filtered, np.full_like(audio, loud)) <= 1e-5  # an offset is removed exactly
    assert change(unfiltered, np.full_like(audio, loud)) > 0.03  # and matters without the filter
    assert change(filtered, rumble) < 0.2 * change(unfiltered, rumble)


def test_restyling_reuses_cached_features(backend: TorchBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    encode = backend.encode
    monkeypatch.setattr(backend, "encode", lambda audio: calls.append(len(audio)) or encode(audio))
    lipsync = LipSync(backend, chunk_s=4)
    path = REAL / "mfa_thoughts.wav"
    neutral = lipsync.curves(path, fps=24)
    encodes = len(calls)
    wide = lipsync.curves(path, fps=24, style=Style(jaw=1.8, lips=1.6))
    smoothed = lipsync.curves(path, fps=30, post=PostProcess(smoothing_ms=120, anticipation_ms=40))
    assert encodes >= 1 and len(calls) == encodes  # no encoder run after the first
    assert not np.allclose(neutral.channels, wide.channels)
    assert smoothed.frames != neutral.frames


def test_anticipation_shifts_curves_earlier(backend: TorchBackend) -> None:
    lipsync = LipSync(backend)
    path = REAL / "prio_mary.wav"
    base = lipsync.curves(path, fps=50, post=PostProcess(smoothing_ms=0))
    lead = lipsync.curves(path, fps=50, post=PostProcess(smoothing_ms=0, anticipation_ms=100))
    np.testing.assert_allclose(lead.channels[:-5], base.channels[5:], atol=1e-6)


def test_smoothing_window_in_ms_reduces_jitter(backend: TorchBackend) -> None:
    lipsync = LipSync(backend)
    raw = lipsync.curves(REAL / "prio_mary.wav", fps=60, post=PostProcess(smoothing_ms=0))
    smooth = lipsync.curves(
        REAL / "prio_mary.wav", fps=60, post=PostProcess(smoothing_ms=150, smoothing_order=2)
    )
    jitter = lambda c: np.abs(np.diff(c.channels, n=2, axis=0)).mean()  # noqa: E731
    assert jitter(smooth) < 0.7 * jitter(raw)


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels"),
    [
        ("WAV", "PCM_16", 8000, 1),
        ("WAV", "PCM_32", 48000, 2),
        ("WAV", "FLOAT", 22050, 1),
        ("FLAC", "PCM_16", 44100, 2),
        ("OGG", "VORBIS", 32000, 1),
        ("MP3", "MPEG_LAYER_III", 24000, 2),
    ],
)
def test_every_audio_format_gives_the_same_timeline(
    backend: TorchBackend, tmp_path: Path, fmt: str, subtype: str, rate: int, channels: int
) -> None:
    from blender_lipsync.core.audio import resample

    speech = load_audio(REAL / "prio_bobby.wav")
    data = resample(speech, 16000, rate)
    data = np.stack([data, 0.5 * data], axis=1) if channels == 2 else data
    path = tmp_path / f"clip.{fmt.lower()}"
    sf.write(str(path), data, rate, format=fmt, subtype=subtype)
    curves = LipSync(backend).curves(path, fps=24)
    duration = sf.info(str(path)).duration
    assert abs(curves.frames - frame_count(len(speech) / 16000, 24)) <= 2
    assert curves.frames == frame_count(duration, 24) or fmt == "MP3"  # mp3 frames pad the end
    assert np.isfinite(curves.channels).all()


def test_silence_and_sub_second_clips(backend: TorchBackend) -> None:
    lipsync = LipSync(backend)
    for samples in (0, 100, 3000, 16000):
        curves = lipsync.curves(np.zeros(samples, np.float32), sample_rate=16000, fps=24)
        assert curves.frames == frame_count(samples / 16000, 24)
        assert np.isfinite(curves.channels).all() and np.isfinite(curves.visemes).all()


def test_loading_refuses_missing_pickled_corrupt_and_mismatched(model_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        TorchBackend.from_folder(tmp_path / "nowhere")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    torch.save({"w": torch.zeros(1)}, pickled / "model.pt")
    (pickled / "config.json").write_text((model_folder / "config.json").read_text())
    with pytest.raises(ModelFileError, match="pickle"):
        TorchBackend.from_folder(pickled)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((model_folder / "config.json").read_text())
    (corrupt / "model.safetensors").write_bytes((model_folder / "model.safetensors").read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="corrupt"):
        TorchBackend.from_folder(corrupt)
    mismatch = tmp_path / "mismatch"
    mismatch.mkdir()
    (mismatch / "model.safetensors").write_bytes((model_folder / "model.safetensors").read_bytes())
    (mismatch / "config.json").write_text(json.dumps({**SMALL.to_json(), "decoder_layers": 3}))
    with pytest.raises(ModelFileError, match="does not match"):
        TorchBackend.from_folder(mismatch)
    (mismatch / "config.json").write_text(json.dumps({**SMALL.to_json(), "loudness_input": False}))
    with pytest.raises(ModelFileError, match=r"does not match.*size mismatch"):  # same names, other shapes
        TorchBackend.from_folder(mismatch)
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    (no_config / "model.safetensors").write_bytes((model_folder / "model.safetensors").read_bytes())
    with pytest.raises(ModelFileError, match="config"):
        TorchBackend.from_folder(no_config)


@pytest.mark.slow
def test_onnxruntime_matches_torch(model_folder: Path, backend: TorchBackend, tmp_path: Path) -> None:
    from blender_lipsync.core.onnx_backend import OnnxBackend
    from lipsync_train.export_onnx import export

    onnx_dir = export(model_folder, tmp_path / "onnx")
    ort_backend = OnnxBackend(onnx_dir, threads=1)
    path = REAL / "mfa_acoustic_corpus.wav"
    # Default chunking: several cross-faded windows, so blending is checked on both runtimes.
    for style in (Style(), Style(jaw=1.7, lips=0.5, articulation=1.0)):
        reference = LipSync(backend).curves(path, fps=29.97, style=style)
        onnx = LipSync(ort_backend).curves(path, fps=29.97, style=style)
        assert onnx.frames == reference.frames
        assert np.abs(onnx.channels - reference.channels).max() <= 1e-3
        assert np.abs(onnx.visemes - reference.visemes).max() <= 1e-3
    assert LipSync(ort_backend).curves(np.zeros(100, np.float32), sample_rate=16000).frames == 1
    assert ort_backend.viseme_loss_weights == backend.viseme_loss_weights
    (onnx_dir / "config.json").unlink()
    with pytest.raises(ModelFileError, match=r"no config\.json"):
        OnnxBackend(onnx_dir, threads=1)


def test_yardstick_scores_a_model_folder(model_folder: Path) -> None:
    from lipsync_train.evaluation import metrics, predictors, reference

    rec = reference.load_recording("prio_bobby")
    predict = predictors.load(f"model:{model_folder}")
    curves = predict(rec.audio, 24.0, rec.phones)
    ref = predictors.teacher_curves(rec.audio, rec.phones, 24.0)
    scores = metrics.score(curves, ref, rec.phones)
    assert curves.frames == ref.frames and 0.0 <= scores["viseme_accuracy"] <= 1.0
    unsealed = predictors.load(f"model-seal:1:{model_folder}")(rec.audio, 24.0, rec.phones)
    lipsync = LipSync(TorchBackend.from_folder(model_folder))
    off = lipsync.curves(rec.audio, 16000, 24.0, post=PostProcess(seal_threshold=1.0))
    assert np.array_equal(unsealed.channels, off.channels)
    assert lips_closed(unsealed.channels).sum() <= lips_closed(curves.channels).sum()
    unparted = predictors.load(f"model-part:1:{model_folder}")(rec.audio, 24.0, rec.phones)
    off = lipsync.curves(rec.audio, 16000, 24.0, post=PostProcess(vowel_open_threshold=1.0))
    assert np.array_equal(unparted.channels, off.channels)
    assert lips_closed(unparted.channels).sum() >= lips_closed(curves.channels).sum()
    for prefix in ("model-seal", "model-part"):
        with pytest.raises(ValueError, match=f"{prefix}:T.*threshold"):
            predictors.load(f"{prefix}:often:{model_folder}")


@pytest.mark.slow
def test_an_hour_of_audio_goes_through_in_chunks(backend: TorchBackend) -> None:
    """Bounded memory is the benchmark's job; here: an hour works and every frame is there."""
    speech = load_audio(REAL / "mfa_acoustic_corpus.wav")
    speech = speech[: len(speech) // 320 * 320]  # whole model frames, so the loop stays frame-aligned
    hour = np.tile(speech, int(np.ceil(3600 * 16000 / len(speech))))[: 3600 * 16000]
    lipsync = LipSync(backend, chunk_s=60)
    curves = lipsync.curves(hour, sample_rate=16000, fps=24)
    assert curves.frames == frame_count(3600.0, 24) == 86401
    assert np.isfinite(curves.channels).all() and curves.channels.max() <= 1.0
    # the loop repeats the same speech: minute 0 and ~minute 50 give the same mouth (50 Hz frames)
    raw = lipsync.model_curves(hour)
    period = len(speech) // 320
    a, b = 500, 500 + period * (150_000 // period)
    assert np.abs(raw.channels[a : a + 100] - raw.channels[b : b + 100]).max() <= 1e-3


@pytest.mark.parametrize("fps", [12.0, 23.976, 24.0, 29.97, 59.94, 60.0])
@pytest.mark.parametrize("phase", range(5))
def test_resampling_keeps_every_20ms_seal_visible(fps: float, phase: int) -> None:
    """A one-model-frame lip seal must show on some output frame, wherever it falls."""
    frames = 100
    channels = np.zeros((frames, len(MOUTH_CHANNELS)), np.float32)
    channels[:, CHANNEL_INDEX["jawOpen"]] = 0.5  # open mouth...
    seal_frame = 40 + phase
    channels[seal_frame, CHANNEL_INDEX["jawOpen"]] = 0.0  # ...sealed for one 20 ms frame
    visemes = np.full((frames, len(VISEMES)), 1.0 / len(VISEMES), np.float32)
    raw = Curves(MODEL_FPS, channels, visemes)
    out = resample_curves(raw, fps, (frames - 1) / MODEL_FPS)
    closed = lips_closed(out.channels)
    assert closed.sum() == 1
    (k,) = np.flatnonzero(closed)
    assert abs(k / fps - seal_frame / MODEL_FPS) <= 0.5 / fps + 1e-9  # on the frame whose span holds it
    unsealed = np.where(np.arange(frames)[:, None] == seal_frame, channels[0], channels)
    open_raw = Curves(MODEL_FPS, unsealed, visemes)
    assert not lips_closed(resample_curves(open_raw, fps, (frames - 1) / MODEL_FPS).channels).any()


@pytest.mark.parametrize("fps", [12.0, 23.976, 24.0, 29.97, 59.94, 60.0])
@pytest.mark.parametrize("phase", range(5))
def test_resampling_does_not_widen_a_seal_the_instants_catch(fps: float, phase: int) -> None:
    """A 100 ms seal shuts exactly the output frames whose instants fall inside it, as the
    teacher samples its seals: none of the open vowel frames on either side shuts early or late."""
    frames = 100
    channels = np.zeros((frames, len(MOUTH_CHANNELS)), np.float32)
    channels[:, CHANNEL_INDEX["jawOpen"]] = 0.5
    first, last = 40 + phase, 44 + phase  # five sealed 20 ms frames
    channels[first : last + 1, CHANNEL_INDEX["jawOpen"]] = 0.0
    visemes = np.full((frames, len(VISEMES)), 1.0 / len(VISEMES), np.float32)
    out = resample_curves(Curves(MODEL_FPS, channels, visemes), fps, (frames - 1) / MODEL_FPS)
    instants = np.arange(out.frames) / fps
    # Interpolation shuts an instant within a fifth of a model frame of the run (aperture 0.5 x 0.2 = 0.1).
    inside = (instants > (first - 0.2) / MODEL_FPS) & (instants < (last + 0.2) / MODEL_FPS)
    assert inside.any()
    np.testing.assert_array_equal(lips_closed(out.channels), inside)


def _hedged_closure(peak_prob: float) -> Curves:
    """An open vowel with one hedged /m/: the lips come near (not quite) together around
    frames 39-41, narrowest at 41, while the PP probability peaks at ``peak_prob`` on 40."""
    frames = 80
    channels = np.zeros((frames, len(MOUTH_CHANNELS)))
    channels[:, CHANNEL_INDEX["jawOpen"]] = 0.5
    channels[:, CHANNEL_INDEX["mouthLowerDownLeft"]] = channels[:, CHANNEL_INDEX["mouthLowerDownRight"]] = 0.3
    for frame, jaw in ((39, 0.25), (40, 0.2), (41, 0.15)):
        channels[frame, CHANNEL_INDEX["jawOpen"]] = jaw
        channels[frame, CHANNEL_INDEX["mouthClose"]] = 0.05
        channels[frame, CHANNEL_INDEX["mouthLowerDownLeft"]] = 0.1
        channels[frame, CHANNEL_INDEX["mouthLowerDownRight"]] = 0.1
    visemes = np.zeros((frames, len(VISEMES)))
    visemes[:, VISEMES.index("aa")] = 1.0
    for frame, prob in ((39, peak_prob * 0.8), (40, peak_prob), (41, peak_prob * 0.9)):
        visemes[frame] = 0.0
        visemes[frame, VISEMES.index("PP")] = prob
        visemes[frame, VISEMES.index("aa")] = 1 - prob
    return Curves(MODEL_FPS, channels, visemes)


def test_hedged_closures_are_sealed_above_the_threshold() -> None:
    raw = _hedged_closure(0.4)
    assert not lips_closed(raw.channels).any()

    def closed_frames(threshold: float) -> np.ndarray:
        post = PostProcess(smoothing_ms=0, seal_threshold=threshold)
        return np.flatnonzero(lips_closed(post_process(raw, MODEL_FPS, 79 / MODEL_FPS, post).channels))

    assert closed_frames(0.3).tolist() == [41]  # the narrowest frame near the peak, only that one
    assert closed_frames(0.5).size == 0  # the network is not that sure
    assert closed_frames(1.0).size == 0  # off
    out = post_process(raw, MODEL_FPS, 79 / MODEL_FPS, PostProcess(smoothing_ms=0, seal_threshold=0.3))
    changed = np.flatnonzero(np.any(out.channels != raw.channels, axis=1))
    assert changed.tolist() == [41]
    assert out.channels[41, CHANNEL_INDEX["jawOpen"]] == raw.channels[41, CHANNEL_INDEX["jawOpen"]]
    # the seal read the network's weighted PP (0.4); the output shows it without the weight
    assert out.visemes[40, VISEMES.index("PP")] < 0.3
    with pytest.raises(ValueError, match="seal threshold"):
        PostProcess(seal_threshold=1.5)


def test_class_weights_come_off_the_visemes_and_leave_the_channels() -> None:
    raw = _hedged_closure(0.4)
    post = PostProcess(smoothing_ms=0)

    def run(weights: dict[str, float]) -> Curves:
        return post_process(raw, MODEL_FPS, 79 / MODEL_FPS, post, viseme_loss_weights=weights)

    weighted, unweighted = run({}), run({"PP": 2.0, "FF": 2.0})
    assert np.array_equal(weighted.channels, unweighted.channels)
    pp, aa = VISEMES.index("PP"), VISEMES.index("aa")
    assert np.isclose(weighted.visemes[40, pp], 0.4)
    assert np.isclose(unweighted.visemes[40, pp], 0.2 / (0.2 + 0.6))  # PP halved, then renormalised
    assert np.allclose(unweighted.visemes.sum(axis=1), 1.0)
    assert np.array_equal(unweighted.visemes[:30, aa], weighted.visemes[:30, aa])  # sure frames stay


def test_sealed_poses_keep_the_jaw_and_just_close_the_lips() -> None:
    rng = np.random.default_rng(0)
    poses = rng.uniform(0, 1, size=(200, len(MOUTH_CHANNELS)))
    out = sealed(poses, aperture=0.05)
    assert np.all(lip_aperture(out) <= 0.05 + 1e-6)
    assert np.array_equal(out[:, CHANNEL_INDEX["jawOpen"]], poses[:, CHANNEL_INDEX["jawOpen"]])
    assert np.all((out >= 0) & (out <= 1))
    lip_opening = [CHANNEL_INDEX[n] for n in LIP_OPENING_CHANNELS]
    shrunk = np.any(out[:, lip_opening] != poses[:, lip_opening], axis=1)
    assert shrunk.sum() > 100
    # no further than needed: where the lips had to come in, they stop at the aperture asked for
    assert np.allclose(lip_aperture(out[shrunk]), 0.05, atol=1e-6)


def _shut_vowel(vowel_prob: float) -> Curves:
    """Open /a/ with the lips shut on frames 30-32, where the vowel visemes hold ``vowel_prob``
    (the rest on PP), and a real closure on frame 50 where PP is sure."""
    frames = 80
    channels = np.zeros((frames, len(MOUTH_CHANNELS)))
    channels[:, CHANNEL_INDEX["jawOpen"]] = 0.4
    for frame in (30, 31, 32, 50):
        channels[frame, CHANNEL_INDEX["mouthClose"]] = 0.4
        channels[frame, CHANNEL_INDEX["mouthPressLeft"]] = 0.2
    visemes = np.zeros((frames, len(VISEMES)))
    visemes[:, VISEMES.index("aa")] = 1.0
    visemes[30:33, VISEMES.index("aa")] = vowel_prob * 0.7
    visemes[30:33, VISEMES.index("E")] = vowel_prob * 0.3
    visemes[30:33, VISEMES.index("PP")] = 1 - vowel_prob
    visemes[50] = 0.0
    visemes[50, VISEMES.index("PP")] = 1.0
    return Curves(MODEL_FPS, channels, visemes)


def test_lips_shut_on_a_sure_vowel_are_parted_above_the_threshold() -> None:
    def closed_frames(vowel_prob: float, threshold: float) -> list[int]:
        post = PostProcess(smoothing_ms=0, seal_threshold=1.0, vowel_open_threshold=threshold)
        out = post_process(_shut_vowel(vowel_prob), MODEL_FPS, 79 / MODEL_FPS, post)
        return np.flatnonzero(lips_closed(out.channels)).tolist()

    assert closed_frames(0.95, 1.0) == [30, 31, 32, 50]  # off
    assert closed_frames(0.95, 0.9) == [50]  # the sure vowel opens, the p/b/m stays
    assert closed_frames(0.8, 0.9) == [30, 31, 32, 50]  # not sure enough of the vowel
    assert closed_frames(0.8, 0.5) == [50]
    with pytest.raises(ValueError, match="vowel open threshold"):
        PostProcess(vowel_open_threshold=-0.1)


def test_parted_poses_keep_the_jaw_and_just_open_the_lips() -> None:
    rng = np.random.default_rng(1)
    poses = sealed(rng.uniform(0, 1, size=(200, len(MOUTH_CHANNELS))), aperture=0.02)
    out = parted(poses, aperture=0.12)
    assert np.all(lip_aperture(out) >= 0.12 - 1e-9)
    assert np.array_equal(out[:, CHANNEL_INDEX["jawOpen"]], poses[:, CHANNEL_INDEX["jawOpen"]])
    assert np.all((out >= 0) & (out <= 1))
    # where the jaw alone can open them, the lower lip is left as it was; elsewhere it may drop
    jaw_enough = poses[:, CHANNEL_INDEX["jawOpen"]] >= 0.12
    lower = CHANNEL_INDEX["mouthLowerDownLeft"]
    assert 20 < jaw_enough.sum() < 200
    assert np.array_equal(out[jaw_enough, lower], poses[jaw_enough, lower])
    assert np.all(out[~jaw_enough, lower] >= poses[~jaw_enough, lower])
    assert np.any(out[~jaw_enough, lower] > poses[~jaw_enough, lower])

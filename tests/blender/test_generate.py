"""Generate Lip-Sync end to end on a real Blender scene with a sound strip and the shipped model."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from blender_lipsync.blender import api, compat, engine
from blender_lipsync.blender.bake import GENERATED_TAG, KeyOptions
from blender_lipsync.core.audio import load_audio
from blender_lipsync.core.contract import CHANNEL_INDEX, MOUTH_CHANNELS, lip_aperture
from blender_lipsync.core.inference import PostProcess, post_process
from blender_lipsync.core.style import Style
from tests.blender.helpers import DEMO_WAV, demo_phones, fcurve_values, make_face, snapshot


def _generate(**settings) -> set:
    scene = bpy.context.scene
    for name, value in settings.items():
        setattr(scene.lipsync, name, value)
    return bpy.ops.lipsync.generate()


def _only_action(obj):
    (action,) = [a for a in bpy.data.actions if a.get(GENERATED_TAG)]
    return action


def _channels_at(action, frames) -> np.ndarray:
    values = fcurve_values(action, frames)
    channels = np.zeros((len(frames), len(MOUTH_CHANNELS)))
    for name, series in values.items():
        channels[:, CHANNEL_INDEX[name]] = series
    return channels


def test_operator_keys_the_mouth_from_a_sound_strip(face, strip) -> None:
    assert _generate(strip="Dialog", key_mode="EVERY") == {"FINISHED"}
    key = face.data.shape_keys
    action = _only_action(face)
    assert key.animation_data.action == action and action.name.startswith("Dialog")
    timing = compat.strip_timing(strip)
    frames = np.arange(timing.left, timing.right)
    channels = _channels_at(action, frames)
    assert channels.min() >= 0.0 and channels.max() <= 1.0
    assert channels[:, CHANNEL_INDEX["jawOpen"]].max() > 0.2  # the mouth really moves
    # the lips close on every /p b m/ of the clip (within a frame), and open on open vowels
    aperture = lip_aperture(channels)
    fps = compat.scene_fps(bpy.context.scene)
    for label, start, end in demo_phones():
        first = int(np.floor(timing.content_start + start * fps)) - 1
        last = int(np.ceil(timing.content_start + end * fps)) + 1
        span = aperture[max(0, first - timing.left) : last - timing.left + 1]
        if label in ("p", "b", "m"):
            assert span.min() < 0.1, f"lips stay open on /{label}/ at {start:.2f} s"
        if label in ("ɑ", "æ", "aɪ", "aʊ"):
            assert span.max() > 0.15, f"mouth stays shut on /{label}/ at {start:.2f} s"


@pytest.mark.parametrize("fps, fps_base", [(24, 1.0), (30, 1.001), (60, 1.0)])
def test_keys_match_the_audio_heard_at_each_frame(face, strip, fps, fps_base) -> None:
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = fps, fps_base
    compat.trim_strip_start(strip, 7)  # the first keyed frame must follow the left handle
    strip.sound_offset = 0.25  # and the audio inside the strip starts 0.25 s into the file
    assert _generate(strip="Dialog", key_mode="EVERY", smoothing_ms=0.0) == {"FINISHED"}
    timing = compat.strip_timing(strip)
    frames = np.arange(timing.left, timing.right)
    baked = _channels_at(_only_action(face), frames)
    expected = _core_channels(strip, PostProcess(smoothing_ms=0.0), sound_offset=0.25)
    assert timing.left == 17 and len(frames) == len(expected)
    assert np.abs(baked - expected).max() < 1e-4


def _core_channels(strip, post: PostProcess, sound_offset: float = 0.0) -> np.ndarray:
    """The core's curves for the strip, sampled at the source time heard on each frame."""
    timing = compat.strip_timing(strip)
    rate = compat.scene_fps(bpy.context.scene)
    frames = timing.right - timing.left
    raw = engine.get_engine("ONNX").model_curves(load_audio(DEMO_WAV), Style())
    lead = (timing.left - timing.content_start) / rate + sound_offset
    return post_process(raw, rate, (frames - 1) / rate, post, lead).channels


def test_seal_threshold_reaches_the_keys(face, strip) -> None:
    frames = np.arange(compat.strip_timing(strip).left, compat.strip_timing(strip).right)
    baked = {}
    for threshold in (1.0, 0.0):  # off, then every p/b/m probability peak sealed
        bpy.ops.lipsync.clear()
        assert _generate(strip="Dialog", key_mode="EVERY", smoothing_ms=0.0, seal_threshold=threshold) == {
            "FINISHED"
        }
        baked[threshold] = _channels_at(_only_action(face), frames)
        expected = _core_channels(strip, PostProcess(smoothing_ms=0.0, seal_threshold=threshold))
        assert np.abs(baked[threshold] - expected).max() < 1e-4
    assert (lip_aperture(baked[0.0]) < 0.1).sum() > (lip_aperture(baked[1.0]) < 0.1).sum()


def test_vowel_parting_reaches_the_keys(face, strip) -> None:
    frames = np.arange(compat.strip_timing(strip).left, compat.strip_timing(strip).right)
    baked = {}
    for threshold in (1.0, 0.0):  # off, then every shut frame parted (seals off, so none are p/b/m seals)
        bpy.ops.lipsync.clear()
        settings = {"smoothing_ms": 0.0, "seal_threshold": 1.0, "vowel_open_threshold": threshold}
        assert _generate(strip="Dialog", key_mode="EVERY", **settings) == {"FINISHED"}
        baked[threshold] = _channels_at(_only_action(face), frames)
        expected = _core_channels(strip, PostProcess(**settings))
        assert np.abs(baked[threshold] - expected).max() < 1e-4
    assert (lip_aperture(baked[0.0]) < 0.1).sum() < (lip_aperture(baked[1.0]) < 0.1).sum()


def test_reduced_keys_are_sparse_and_within_tolerance(face, strip) -> None:
    assert _generate(strip="Dialog", key_mode="EVERY", smoothing_ms=60.0) == {"FINISHED"}
    full = _only_action(face)
    timing = compat.strip_timing(strip)
    frames = np.arange(timing.left, timing.right)
    dense = fcurve_values(full, frames)
    dense_keys = sum(len(fc.keyframe_points) for fc in compat.iter_action_fcurves(full))
    bpy.ops.lipsync.clear()
    assert _generate(strip="Dialog", key_mode="REDUCED", key_tolerance=0.02) == {"FINISHED"}
    reduced = _only_action(face)
    sparse = fcurve_values(reduced, frames)
    sparse_keys = sum(len(fc.keyframe_points) for fc in compat.iter_action_fcurves(reduced))
    assert sparse_keys < dense_keys / 2
    assert max(np.abs(sparse[n] - dense[n]).max() for n in dense) <= 0.02 + 1e-6


def test_stepped_keys_hold_poses_on_twos(face, strip) -> None:
    assert _generate(strip="Dialog", key_mode="STEPPED", key_step=2) == {"FINISHED"}
    for fc in compat.iter_action_fcurves(_only_action(face)):
        frames = [kp.co.x for kp in fc.keyframe_points]
        assert np.all(np.diff(frames) == 2)
        assert {kp.interpolation for kp in fc.keyframe_points} == {"CONSTANT"}


def test_existing_animation_is_left_untouched(face, strip) -> None:
    key = face.data.shape_keys
    key.key_blocks["jawOpen"].value = 0.7
    key.key_blocks["jawOpen"].keyframe_insert("value", frame=1)
    mine = key.animation_data.action
    before = [tuple(kp.co) for fc in compat.iter_action_fcurves(mine) for kp in fc.keyframe_points]
    assert _generate(strip="Dialog") == {"FINISHED"}
    assert key.animation_data.action == mine  # still the animator's action
    assert [tuple(kp.co) for fc in compat.iter_action_fcurves(mine) for kp in fc.keyframe_points] == before
    (track,) = key.animation_data.nla_tracks
    assert track.strips[0].action.get(GENERATED_TAG)
    assert bpy.ops.lipsync.clear() == {"FINISHED"}
    assert key.animation_data.action == mine and len(key.animation_data.nla_tracks) == 0
    assert mine.name in bpy.data.actions


def test_regenerating_makes_a_new_action_and_push_to_nla(face, strip) -> None:
    assert _generate(strip="Dialog") == {"FINISHED"}
    assert _generate(strip="Dialog", use_nla=True) == {"FINISHED"}
    generated = [a for a in bpy.data.actions if a.get(GENERATED_TAG)]
    assert len(generated) == 2 and len({a.name for a in generated}) == 2
    assert len(face.data.shape_keys.animation_data.nla_tracks) == 1


def test_selected_strips_get_one_action_each(face, strip) -> None:
    scene = bpy.context.scene
    second = compat.new_sound_strip(scene, "Reply", str(DEMO_WAV), channel=2, frame_start=200)
    strip.select = second.select = True
    assert _generate(audio_source="SELECTED") == {"FINISHED"}
    tracks = face.data.shape_keys.animation_data.nla_tracks
    starts = sorted(t.strips[0].frame_start for t in tracks)
    assert len(tracks) == 2 and starts == [10, 200]


def test_packed_sound_is_read_after_its_file_is_gone(face, tmp_path) -> None:
    copy = tmp_path / "line.wav"
    copy.write_bytes(DEMO_WAV.read_bytes())
    scene = bpy.context.scene
    strip = compat.new_sound_strip(scene, "Packed", str(copy), channel=1, frame_start=1)
    strip.sound.pack()
    copy.unlink()
    assert _generate(strip="Packed") == {"FINISHED"}
    assert _only_action(face) is not None


def test_api_generate_with_preset_style_and_file(face) -> None:
    reports = api.generate(
        face,
        audio=str(DEMO_WAV),
        start_frame=5,
        preset="arkit",
        style=Style(jaw=1.5),
        post=PostProcess(smoothing_ms=80),
    )
    (report,) = reports
    assert report.first_frame == 5 and report.shape_keys == len(MOUTH_CHANNELS) and report.keys > 0
    assert "keys on" in report.summary()


def test_style_changes_the_motion(scene, strip) -> None:
    small, big = make_face("Small"), make_face("Big")
    (a,) = api.generate(small, strip="Dialog", style=Style(jaw=0.5, intensity=0.5))
    (b,) = api.generate(big, strip="Dialog", style=Style(jaw=1.8, intensity=1.5))
    timing = compat.strip_timing(strip)
    frames = np.arange(timing.left, timing.right)
    jaw_a = fcurve_values(bpy.data.actions[a.action], frames)["jawOpen"]
    jaw_b = fcurve_values(bpy.data.actions[b.action], frames)["jawOpen"]
    assert jaw_b.mean() > 1.3 * jaw_a.mean()


def test_torch_runtime_matches_onnx_or_says_how_to_fix(face, strip) -> None:
    if not engine.torch_available():  # the Python 3.13 Blender: onnxruntime only
        before_names = set(bpy.data.actions.keys())
        with pytest.raises(api.LipSyncError, match="torch is not installed"):
            api.generate(face, strip="Dialog", runtime="TORCH")
        assert set(bpy.data.actions.keys()) == before_names
        return
    (onnx,) = api.generate(face, strip="Dialog", runtime="ONNX", keys=KeyOptions("EVERY"))
    (torch_,) = api.generate(face, strip="Dialog", runtime="TORCH", keys=KeyOptions("EVERY"))
    timing = compat.strip_timing(strip)
    frames = np.arange(timing.left, timing.right)
    a = fcurve_values(bpy.data.actions[onnx.action], frames)
    b = fcurve_values(bpy.data.actions[torch_.action], frames)
    assert max(np.abs(a[n] - b[n]).max() for n in a) < 1e-3


def test_cancel_from_another_thread_stops_between_chunks_and_changes_nothing(face, tmp_path) -> None:
    """What Esc does in the modal operator: the worker stops at the next chunk, nothing is baked."""
    import threading
    import wave

    long_wav = tmp_path / "long.wav"  # 100 s: four 30 s encoder chunks
    samples = np.tile(load_audio(DEMO_WAV), 27)[: 100 * 16000]
    with wave.open(str(long_wav), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    job = api.prepare(face, audio=str(long_wav))
    before = snapshot()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0:
            job.cancel.set()  # as if Esc was pressed while the first chunk finished

    errors: list[Exception] = []
    worker = threading.Thread(target=lambda: _capture(errors, job.compute, progress))
    worker.start()
    worker.join(timeout=300)
    assert len(errors) == 1 and isinstance(errors[0], api.Cancelled)
    assert 0 < max(seen) < 1  # stopped part-way
    assert snapshot() == before
    job.cancel.clear()
    seen.clear()
    job.compute(progress=seen.append)  # uncancelled, the same job runs to the end
    assert seen[-1] == pytest.approx(1.0)


def _capture(errors: list, fn, *args) -> None:
    try:
        fn(*args)
    except Exception as exc:
        errors.append(exc)


def test_one_undo_step_removes_the_generated_animation(face, strip) -> None:
    """Headless Blender pushes no undo step for Python-called operators, so the test pushes the
    two steps the UI would (before, and the operator's own); one undo must restore the scene."""
    block = face.data.shape_keys.key_blocks["jawOpen"]
    block.value = 0.3
    block.keyframe_insert("value", frame=2)
    window = bpy.context.window_manager.windows[0]
    bpy.context.scene.lipsync.strip = "Dialog"
    before = snapshot()
    bpy.ops.ed.undo_push(message="before")
    assert bpy.ops.lipsync.generate() == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Generate Lip-Sync")
    assert snapshot() != before
    with bpy.context.temp_override(window=window):
        assert bpy.ops.ed.undo() == {"FINISHED"}
    assert snapshot() == before

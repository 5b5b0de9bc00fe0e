"""Lip-sync from audio files, without the sequencer: the path every Blender build has.

These run on every tested Blender, and are the only Blender tests for bpy 4.2 LTS, whose PyPI
build lacks Audaspace (no sound strips) and still has the legacy, unslotted actions.
"""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from blender_lipsync.blender import api, compat
from blender_lipsync.blender.bake import GENERATED_TAG, KeyOptions
from blender_lipsync.core.audio import load_audio
from blender_lipsync.core.contract import MOUTH_CHANNELS, frame_count
from tests.blender.helpers import DEMO_WAV, fcurve_values, make_face, snapshot


def _generated() -> list:
    return [a for a in bpy.data.actions if a.get(GENERATED_TAG)]


@pytest.mark.parametrize("mode", ["EVERY", "REDUCED", "STEPPED"])
def test_file_audio_is_keyed_from_its_start_frame(face, mode) -> None:
    (report,) = api.generate(face, audio=str(DEMO_WAV), start_frame=20, keys=KeyOptions(mode))
    frames = frame_count(len(load_audio(DEMO_WAV)) / 16000, compat.scene_fps(bpy.context.scene))
    assert (report.first_frame, report.last_frame) == (20, 20 + frames - 1)
    (action,) = _generated()
    assert face.data.shape_keys.animation_data.action == action
    keyed = [kp.co.x for fc in compat.iter_action_fcurves(action) for kp in fc.keyframe_points]
    assert min(keyed) == 20 and max(keyed) <= 20 + frames - 1
    values = fcurve_values(action, np.arange(20, 20 + frames))
    assert set(values) == set(MOUTH_CHANNELS)
    assert all(v.min() >= 0.0 and v.max() <= 1.0 for v in values.values())
    assert values["jawOpen"].max() > 0.2


def test_operator_with_a_file_keeps_the_animators_action(face) -> None:
    block = face.data.shape_keys.key_blocks["mouthSmileLeft"]
    block.value = 0.5
    block.keyframe_insert("value", frame=1)
    mine = face.data.shape_keys.animation_data.action
    settings = bpy.context.scene.lipsync
    settings.audio_source, settings.filepath, settings.file_start = "FILE", str(DEMO_WAV), 1
    assert bpy.ops.lipsync.generate() == {"FINISHED"}
    anim = face.data.shape_keys.animation_data
    assert anim.action == mine and len(anim.nla_tracks) == 1
    assert bpy.ops.lipsync.clear() == {"FINISHED"}
    assert anim.action == mine and not _generated() and len(anim.nla_tracks) == 0


def test_detect_rig_then_generate_from_a_file(scene) -> None:
    obj = make_face("Avatar", ("viseme_sil", "viseme_PP", "viseme_aa", "viseme_O", "viseme_U", "viseme_FF"))
    bpy.context.view_layer.objects.active = obj
    assert bpy.ops.lipsync.detect_rig() == {"FINISHED"} and obj.lipsync.preset == "oculus"
    (report,) = api.generate(obj, audio=str(DEMO_WAV), rows=obj.lipsync.mapping())
    assert report.shape_keys == 6


def test_bad_files_change_nothing(face, tmp_path) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 50)
    before = snapshot()
    for path, message in ((tmp_path / "missing.wav", "not found"), (corrupt, "cannot read")):
        with pytest.raises(api.LipSyncError, match=message):
            api.generate(face, audio=str(path))
        assert snapshot() == before

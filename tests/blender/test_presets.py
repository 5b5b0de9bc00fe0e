"""Rig presets in Blender: auto-detection from shape-key names, editable rows saved with the .blend."""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from blender_lipsync.blender import compat
from blender_lipsync.blender.bake import GENERATED_TAG
from blender_lipsync.core.retarget import PRESETS
from tests.blender.helpers import make_face


def _spelled(name: str, preset_id: str) -> str:
    """The way a real export might spell it: ARKit from a CC/Maya export gets a prefix."""
    return f"Key_{name}" if preset_id == "arkit" else name


@pytest.mark.parametrize("preset_id", sorted(PRESETS))
def test_every_preset_is_detected_and_drives_its_keys(scene, strip, preset_id) -> None:
    targets = [_spelled(t, preset_id) for t in PRESETS[preset_id].targets]
    obj = make_face(f"Rig_{preset_id}", ("Blink_L", *targets))
    bpy.context.view_layer.objects.active = obj
    assert bpy.ops.lipsync.detect_rig() == {"FINISHED"}
    assert obj.lipsync.preset == preset_id
    rows = {row.target for row in obj.lipsync.rows}
    assert rows == set(targets)  # matched to the rig's own spelling, Blink_L untouched
    scene.lipsync.strip = "Dialog"
    assert bpy.ops.lipsync.generate() == {"FINISHED"}
    (action,) = [a for a in bpy.data.actions if a.get(GENERATED_TAG)]
    animated = {fc.data_path.split('"')[1] for fc in compat.iter_action_fcurves(action)}
    assert animated == set(targets)
    moving = [
        fc for fc in compat.iter_action_fcurves(action) if np.ptp([k.co.y for k in fc.keyframe_points]) > 0.05
    ]
    assert moving, "no shape key moves"


def test_edited_rows_are_used_and_saved_with_the_blend(face, strip, tmp_path) -> None:
    scene = bpy.context.scene
    assert bpy.ops.lipsync.detect_rig() == {"FINISHED"}
    rows = face.lipsync.rows
    for row in rows:  # keep only the jaw, driven twice as hard
        row.enabled = row.target == "jawOpen"
    jaw = next(r for r in rows if r.target == "jawOpen")
    jaw.gain = 2.0
    path = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    face, scene = bpy.data.objects["Face"], bpy.context.scene
    assert [r.target for r in face.lipsync.rows if r.enabled] == ["jawOpen"]
    assert face.lipsync.rows[[r.target for r in face.lipsync.rows].index("jawOpen")].gain == 2.0
    bpy.context.view_layer.objects.active = face
    scene.lipsync.strip = "Dialog"
    assert bpy.ops.lipsync.generate() == {"FINISHED"}
    (action,) = [a for a in bpy.data.actions if a.get(GENERATED_TAG)]
    assert [fc.data_path for fc in compat.iter_action_fcurves(action)] == ['key_blocks["jawOpen"].value']


def test_no_known_naming_reports_and_changes_nothing(scene) -> None:
    obj = make_face("Odd", ("Smile_big", "Blink", "Angry"))
    bpy.context.view_layer.objects.active = obj
    with pytest.raises(RuntimeError, match="No known rig naming"):
        bpy.ops.lipsync.detect_rig()
    assert len(obj.lipsync.rows) == 0 and obj.lipsync.preset == "AUTO"


def test_rows_can_be_added_and_removed(face) -> None:
    assert bpy.ops.lipsync.detect_rig() == {"FINISHED"}
    count = len(face.lipsync.rows)
    assert bpy.ops.lipsync.row_add() == {"FINISHED"} and len(face.lipsync.rows) == count + 1
    face.lipsync.active_row = 0
    assert bpy.ops.lipsync.row_remove() == {"FINISHED"} and len(face.lipsync.rows) == count

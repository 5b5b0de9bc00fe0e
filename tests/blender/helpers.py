"""Scene helpers for the Blender tests: a face with shape keys, key read-back, before/after snapshots."""

import json
from pathlib import Path

import bpy
import numpy as np

from blender_lipsync.blender import compat
from blender_lipsync.core.contract import MOUTH_CHANNELS

ROOT = Path(__file__).resolve().parents[2]
DEMO_WAV = ROOT / "assets" / "demo" / "demo.wav"
DEMO_PHONES = ROOT / "assets" / "demo" / "demo.phones.json"


def make_face(name: str = "Face", shape_keys: tuple[str, ...] = MOUTH_CHANNELS) -> bpy.types.Object:
    """A small grid mesh whose shape keys each move a different vertex (enough to animate)."""
    size = int(np.ceil(np.sqrt(len(shape_keys) + 1))) + 1
    verts = [(x, y, 0.0) for y in range(size) for x in range(size)]
    faces = [
        (y * size + x, y * size + x + 1, (y + 1) * size + x + 1, (y + 1) * size + x)
        for y in range(size - 1)
        for x in range(size - 1)
    ]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for i, key_name in enumerate(shape_keys):
        block = obj.shape_key_add(name=key_name, from_mix=False)
        block.data[i % len(verts)].co.z = 0.1
    bpy.context.view_layer.objects.active = obj
    return obj


def demo_phones() -> list[tuple[str, float, float]]:
    return [tuple(p) for p in json.loads(DEMO_PHONES.read_text())["phones"]]


def fcurve_values(action, frames) -> dict[str, np.ndarray]:
    """Shape-key name -> values at ``frames`` from the action's F-curves."""
    out = {}
    for fc in compat.iter_action_fcurves(action):
        name = fc.data_path.split('"')[1]
        out[name] = np.array([fc.evaluate(float(f)) for f in frames])
    return out


def snapshot() -> dict:
    """Everything a failed run must leave as it was: actions and their keys, animation data, shape keys."""
    state: dict = {"actions": {}, "objects": {}}
    for action in bpy.data.actions:
        state["actions"][action.name] = sorted(
            (fc.data_path, tuple(round(v, 6) for kp in fc.keyframe_points for v in kp.co))
            for fc in compat.iter_action_fcurves(action)
        )
    for obj in bpy.data.objects:
        key = obj.data.shape_keys if obj.type == "MESH" else None
        anim = key.animation_data if key else None
        state["objects"][obj.name] = {
            "keys": [(kb.name, kb.value) for kb in key.key_blocks] if key else None,
            "action": anim.action.name if anim and anim.action else None,
            "tracks": [t.name for t in anim.nla_tracks] if anim else None,
        }
    return state

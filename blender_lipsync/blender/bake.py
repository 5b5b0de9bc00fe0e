"""Write lip-sync values as keyframes on shape keys, without touching existing animation.

Each bake makes a new Action (named after the audio) on the mesh's shape-key datablock.
When that datablock already plays an action, or when asked to, the new action goes to a
new NLA track instead, so nothing the animator made is replaced.  Generated actions carry
a custom property so that Clear removes exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from ..core.keys import reduce_keys, stepped_keys
from . import compat

GENERATED_TAG = "lipsync_generated"
KEY_MODES = ("EVERY", "REDUCED", "STEPPED")
GROUP = "Lip Sync"


@dataclass(frozen=True)
class KeyOptions:
    mode: str = "REDUCED"  # every frame, simplified within ``tolerance``, or held every ``step`` frames
    tolerance: float = 0.01
    step: int = 2

    def __post_init__(self) -> None:
        if self.mode not in KEY_MODES:
            raise ValueError(f"key mode must be one of {KEY_MODES}, got {self.mode!r}")
        if self.step < 1 or self.tolerance < 0:
            raise ValueError("step must be >= 1 and tolerance >= 0")


@dataclass(frozen=True)
class BakeResult:
    action: str
    keys: int
    shape_keys: int
    nla_track: str | None


def key_indices(values: np.ndarray, options: KeyOptions) -> np.ndarray:
    if options.mode == "EVERY":
        return np.arange(len(values))
    if options.mode == "STEPPED":
        return stepped_keys(len(values), options.step)
    return reduce_keys(values, options.tolerance)


def bake(
    key: bpy.types.Key,
    name: str,
    first_frame: int,
    values: dict[str, np.ndarray],
    options: KeyOptions,
    use_nla: bool = False,
) -> BakeResult:
    """Key ``values`` (shape-key name -> value per frame from ``first_frame``) into a new action."""
    action, slot = compat.new_action(f"{name}_LipSync", key)
    action[GENERATED_TAG] = True
    action["lipsync_source"] = name
    fcurves = compat.action_fcurves(action, slot)
    interpolation = "CONSTANT" if options.mode == "STEPPED" else "LINEAR"
    mode_value = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[interpolation].value
    total = 0
    for shape_key, series in values.items():
        idx = key_indices(np.asarray(series, np.float32), options)
        co = np.empty(2 * len(idx), np.float32)
        co[0::2] = first_frame + idx
        co[1::2] = series[idx]
        path = f'key_blocks["{bpy.utils.escape_identifier(shape_key)}"].value'
        fc = compat.new_fcurve(fcurves, path, GROUP)
        fc.keyframe_points.add(len(idx))
        fc.keyframe_points.foreach_set("co", co)
        fc.keyframe_points.foreach_set("interpolation", np.full(len(idx), mode_value, np.int32))
        fc.update()
        total += len(idx)
    track = _attach(key, action, slot, first_frame, use_nla)
    return BakeResult(action.name, total, len(values), track)


def _attach(key: bpy.types.Key, action, slot, first_frame: int, use_nla: bool) -> str | None:
    """Play the action: as the active action when the slot is free, else on a new NLA track."""
    anim = key.animation_data or key.animation_data_create()
    if not use_nla and anim.action is None:
        compat.assign_action(anim, action, slot)
        return None
    track = anim.nla_tracks.new()
    track.name = action.name
    strip = track.strips.new(action.name, first_frame, action)
    compat.set_nla_slot(strip, slot)
    return track.name


def generated_actions(key: bpy.types.Key) -> list:
    """Actions this add-on generated that play on ``key`` (active or in its NLA tracks)."""
    anim = key.animation_data
    if anim is None:
        return []
    found = [anim.action] if anim.action is not None and anim.action.get(GENERATED_TAG) else []
    for track in anim.nla_tracks:
        found += [s.action for s in track.strips if s.action is not None and s.action.get(GENERATED_TAG)]
    return list(dict.fromkeys(found))


def clear(key: bpy.types.Key) -> int:
    """Remove the generated actions of ``key`` and the NLA tracks that only held them."""
    actions = generated_actions(key)
    anim = key.animation_data
    if not actions or anim is None:
        return 0
    if anim.action in actions:
        anim.action = None
    for track in list(anim.nla_tracks):
        if track.strips and all(s.action in actions for s in track.strips):
            anim.nla_tracks.remove(track)
    for action in actions:
        bpy.data.actions.remove(action)
    return len(actions)

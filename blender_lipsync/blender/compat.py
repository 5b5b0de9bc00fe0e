"""Every Blender API difference between 4.2 LTS and 5.2 that the add-on meets, in one place.

* Slotted actions (4.4+): ``Action.fcurves`` is gone in 5.0; F-curves live in a
  channelbag of a layer strip, for one slot per animated ID.
* The sequencer's collection is ``strips`` in 4.5+ (``sequences`` until 4.5, gone in 5.0).
* Strip timing got new names in 5.2 (``content_start``, ``left_handle``...); the old ones
  still work there but warn, and the new ones do not exist before 5.2.
* Audaspace (``aud``) is missing from some builds (the PyPI bpy 4.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy

SLOTTED_ACTIONS = bpy.app.version >= (4, 4, 0)


# ---------------------------------------------------------------- sequencer


def strips(scene: bpy.types.Scene) -> list:
    """Top-level strips of the scene's sequencer (empty without one)."""
    sed = scene.sequence_editor
    if sed is None:
        return []
    # hasattr, not getattr(...) or ...: an empty collection is falsy
    return list(sed.strips_all if hasattr(sed, "strips_all") else sed.sequences_all)


def sound_strips(scene: bpy.types.Scene) -> list:
    return [s for s in strips(scene) if s.type == "SOUND"]


def new_sound_strip(scene: bpy.types.Scene, name: str, filepath: str, channel: int, frame_start: int):
    sed = scene.sequence_editor or scene.sequence_editor_create()
    collection = sed.strips if hasattr(sed, "strips") else sed.sequences
    return collection.new_sound(name=name, filepath=filepath, channel=channel, frame_start=frame_start)


@dataclass(frozen=True)
class StripTiming:
    """Where a strip's content sits on the timeline, in scene frames (see notes/blender-api.md).

    The source time heard at scene frame ``f`` is ``(f - content_start) / fps + sound_offset``;
    the strip is audible for ``left <= f < right``.
    """

    content_start: float
    left: int
    right: int
    sound_offset: float


def strip_timing(strip) -> StripTiming:
    if hasattr(strip, "content_start"):  # 5.2+
        start, left, right = strip.content_start, strip.left_handle, strip.right_handle
    else:
        start, left, right = strip.frame_start, strip.frame_final_start, strip.frame_final_end
    return StripTiming(float(start), int(left), int(right), float(getattr(strip, "sound_offset", 0.0)))


def trim_strip_start(strip, frames: int) -> None:
    """Hide the first ``frames`` of a strip's content (the left handle moves right)."""
    if hasattr(strip, "left_handle_offset"):  # 5.2+
        strip.left_handle_offset = frames
    else:
        strip.frame_offset_start = frames


def scene_fps(scene: bpy.types.Scene) -> float:
    """Exact frame rate: 30 / 1.001 for 29.97."""
    return scene.render.fps / scene.render.fps_base


# ---------------------------------------------------------------- actions


def new_action(name: str, key: bpy.types.Key):
    """A new, empty action for ``key`` (and its slot where actions have slots)."""
    action = bpy.data.actions.new(name)
    slot = action.slots.new(id_type="KEY", name=key.name) if SLOTTED_ACTIONS else None
    return action, slot


def action_fcurves(action, slot):
    """The F-curve collection to add curves to: the slot's channelbag, or the legacy list."""
    if not SLOTTED_ACTIONS:
        return action.fcurves
    if not action.layers:
        action.layers.new("Layer").strips.new(type="KEYFRAME")
    return action.layers[0].strips[0].channelbag(slot, ensure=True).fcurves


def new_fcurve(fcurves, data_path: str, group: str):
    if bpy.app.version >= (5, 0, 0) or not SLOTTED_ACTIONS:
        kwarg = "group_name" if SLOTTED_ACTIONS else "action_group"
        return fcurves.new(data_path, index=0, **{kwarg: group})
    return fcurves.new(data_path, index=0)


def assign_action(anim_data, action, slot) -> None:
    anim_data.action = action
    if slot is not None:
        anim_data.action_slot = slot  # a lone slot named otherwise than the ID is not auto-picked


def set_nla_slot(nla_strip, slot) -> None:
    if slot is not None and hasattr(nla_strip, "action_slot"):
        nla_strip.action_slot = slot


def iter_action_fcurves(action):
    """All F-curves of an action, whatever its layout."""
    if not SLOTTED_ACTIONS:
        yield from action.fcurves
        return
    for layer in action.layers:
        for strip in layer.strips:
            for bag in strip.channelbags:
                yield from bag.fcurves


# ---------------------------------------------------------------- sound


def sound_samples(sound) -> tuple | None:
    """(float32 array (samples, channels), rate) decoded by Blender's Audaspace, or None.

    The evaluated copy has the playable ``factory``, also for packed sounds whose file is gone.
    """
    try:
        import aud  # noqa: F401
    except ImportError:
        return None
    depsgraph = bpy.context.evaluated_depsgraph_get()
    factory = sound.evaluated_get(depsgraph).factory
    if factory is None:
        return None
    rate, _channels = factory.specs
    return factory.data(), int(rate)


def read_file_with_aud(path: str) -> tuple | None:
    """Decode any format Blender's ffmpeg reads (wav, flac, ogg, mp3, ...) or None without aud."""
    try:
        import aud
    except ImportError:
        return None
    sound = aud.Sound(path)
    rate, _channels = sound.specs
    return sound.data(), int(rate)

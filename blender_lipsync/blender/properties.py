"""Settings saved with the .blend: per scene (audio, style, keys) and per object (the rig mapping)."""

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..core.contract import MOUTH_CHANNELS, VISEMES
from ..core.inference import PostProcess
from ..core.retarget import PRESETS, MappingRow
from ..core.style import LOOKS, STYLE_FIELDS, Style
from .bake import KeyOptions

SOURCE_ITEMS = [(c, c, f"ARKit channel {c}") for c in MOUTH_CHANNELS] + [
    (f"viseme:{v}", f"viseme {v}", f"probability of the Oculus viseme {v}") for v in VISEMES
]
PRESET_ITEMS = [("AUTO", "Auto-detect", "Recognise the rig from its shape-key names")] + [
    (pid, p.label, p.description) for pid, p in PRESETS.items()
]
LOOK_ITEMS = [(name.upper(), look.label, look.doc) for name, look in LOOKS.items()]
_FIELD = {f.name: f for f in STYLE_FIELDS}


def _probability_threshold(name: str, default: float, description: str):
    """A 0..1 post-processing threshold where 1 turns the step off."""
    return FloatProperty(name=name, default=default, min=0.0, max=1.0, description=description)


def _is_mesh(_self, obj: bpy.types.Object) -> bool:
    return obj.type == "MESH"


class LIPSYNC_PG_mapping_row(bpy.types.PropertyGroup):
    """One mapping row: target shape key <- source channel or viseme x gain."""

    target: StringProperty(name="Shape Key", description="Shape key this row drives")
    source: EnumProperty(name="Source", items=SOURCE_ITEMS, description="Model output that drives it")
    gain: FloatProperty(name="Gain", default=1.0, min=0.0, soft_max=2.0, max=5.0)
    enabled: BoolProperty(name="Enabled", default=True)

    def to_row(self) -> MappingRow:
        return MappingRow(self.target, self.source, self.gain)


class LIPSYNC_PG_object(bpy.types.PropertyGroup):
    """The rig mapping of one mesh, kept with the object so it travels with the character."""

    preset: EnumProperty(name="Rig Preset", items=PRESET_ITEMS, description="Shape-key naming scheme")
    rows: CollectionProperty(type=LIPSYNC_PG_mapping_row)
    active_row: IntProperty(name="Active Row", default=0)

    def preset_id(self) -> str | None:
        return None if self.preset == "AUTO" else self.preset

    def mapping(self) -> list[MappingRow] | None:
        """The enabled rows, or None when the mapping was never filled (use auto-detection)."""
        return [r.to_row() for r in self.rows if r.enabled and r.target] if len(self.rows) else None

    def fill(self, rows: list[MappingRow]) -> None:
        self.rows.clear()
        for row in rows:
            item = self.rows.add()
            item.target, item.source, item.gain = row.target, row.source, row.gain


def _style_prop(name: str, label: str, unit: str = "NONE") -> FloatProperty:
    spec = _FIELD[name]
    return FloatProperty(
        name=label,
        description=spec.doc.capitalize(),
        default=spec.default,
        min=spec.low,
        max=spec.high,
        unit=unit,
    )


def _apply_look(self, _context) -> None:
    look = LOOKS[self.look.lower()]
    for spec in STYLE_FIELDS:
        setattr(self, spec.name, getattr(look.style, spec.name))
    self.smoothing_ms, self.smoothing_order = look.smoothing_ms, look.smoothing_order
    self.key_mode, self.key_step = look.key_mode.upper(), look.step


class LIPSYNC_PG_scene(bpy.types.PropertyGroup):
    """What the panel edits: target, audio, style, smoothing, key options, runtime."""

    target: PointerProperty(
        name="Target",
        type=bpy.types.Object,
        poll=_is_mesh,
        description="Mesh whose shape keys get animated (default: the active mesh)",
    )
    audio_source: EnumProperty(
        name="Audio",
        items=[
            ("STRIP", "Sound Strip", "A sound strip of the scene's sequencer"),
            ("SELECTED", "Selected Strips", "Every selected sound strip, one action each"),
            ("FILE", "File", "An audio file (wav, flac, ogg, mp3, ...)"),
        ],
    )
    strip: StringProperty(name="Strip", description="Sound strip to lip-sync")
    filepath: StringProperty(name="File", subtype="FILE_PATH", description="Audio file to lip-sync")
    file_start: IntProperty(name="Start Frame", default=1, description="Scene frame where the file starts")

    look: EnumProperty(
        name="Look",
        items=LOOK_ITEMS,
        update=_apply_look,
        description="Style preset; every value stays editable",
    )
    intensity: _style_prop("intensity", "Intensity")
    jaw: _style_prop("jaw", "Jaw")
    lips: _style_prop("lips", "Lips")
    articulation: _style_prop("articulation", "Articulation")
    anticipation_ms: _style_prop("anticipation_ms", "Anticipation (ms)")
    closure: _style_prop("closure", "Closure")
    smoothing_ms: FloatProperty(
        name="Smoothing (ms)",
        default=PostProcess.smoothing_ms,
        min=0.0,
        max=400.0,
        description="Savitzky-Golay window; 0 = off",
    )
    smoothing_order: IntProperty(
        name="Order",
        default=PostProcess.smoothing_order,
        min=1,
        max=5,
        description="Savitzky-Golay polynomial order (higher keeps sharper peaks)",
    )
    seal_threshold: _probability_threshold(
        "Seal Lips At",
        PostProcess.seal_threshold,
        "Close the lips wherever the model's p/b/m probability peaks at least this high "
        "(lower = more closures, 1 = off)",
    )
    vowel_open_threshold: _probability_threshold(
        "Part Lips on Vowels At",
        PostProcess.vowel_open_threshold,
        "Open lips the curves keep shut wherever the model is at least this sure of a vowel "
        "(lower = fewer shut vowels, 1 = off)",
    )

    key_mode: EnumProperty(
        name="Keys",
        items=[
            ("EVERY", "Every Frame", "A key on every frame"),
            ("REDUCED", "Reduced", "Sparse, editable keys within a tolerance of the full curve"),
            ("STEPPED", "Stepped", "Held poses every N frames (on twos), constant interpolation"),
        ],
        default="REDUCED",
    )
    key_tolerance: FloatProperty(
        name="Tolerance",
        default=KeyOptions.tolerance,
        min=0.0,
        max=0.2,
        description="Largest allowed difference from the full curve",
    )
    key_step: IntProperty(name="Step", default=KeyOptions.step, min=1, max=12, description="Frames per pose")
    use_nla: BoolProperty(
        name="Push to NLA", default=False, description="Put the new action on its own NLA track"
    )
    runtime: EnumProperty(
        name="Runtime",
        items=[
            ("ONNX", "ONNX Runtime (CPU)", "Bundled, no install needed"),
            ("TORCH", "PyTorch", "Uses the GPU when torch is installed in Blender's Python"),
        ],
    )

    def style(self) -> Style:
        return Style(**{spec.name: getattr(self, spec.name) for spec in STYLE_FIELDS})

    def post(self) -> PostProcess:
        return PostProcess(
            smoothing_ms=self.smoothing_ms,
            smoothing_order=self.smoothing_order,
            seal_threshold=self.seal_threshold,
            vowel_open_threshold=self.vowel_open_threshold,
        )

    def keys(self) -> KeyOptions:
        return KeyOptions(self.key_mode, self.key_tolerance, self.key_step)


CLASSES = (LIPSYNC_PG_mapping_row, LIPSYNC_PG_object, LIPSYNC_PG_scene)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.lipsync = PointerProperty(type=LIPSYNC_PG_scene)
    bpy.types.Object.lipsync = PointerProperty(type=LIPSYNC_PG_object)


def unregister() -> None:
    del bpy.types.Object.lipsync
    del bpy.types.Scene.lipsync
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)

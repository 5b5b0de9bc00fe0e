"""The Python API inside Blender, used by the operator, the headless CLI and pipelines.

    from blender_lipsync.blender.api import generate
    reports = generate(bpy.data.objects["Face"], strip="Dialog", style=Style(jaw=1.3), preset="arkit")

A run has three phases so the UI can stay responsive: ``prepare`` reads and checks
everything on the main thread (and changes nothing), ``Job.compute`` runs the network
(thread-safe, no bpy), and ``Job.bake`` writes the keys on the main thread.  Any
problem raises ``LipSyncError`` with a one-line message before the .blend is touched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import bpy
import numpy as np

from ..core.audio import AudioError
from ..core.inference import LipSync, ModelFileError, PostProcess
from ..core.retarget import PRESETS, MappingRow, apply_mapping, detect_preset, resolve
from ..core.style import Style
from . import bake as baking
from . import engine, sources
from .bake import BakeResult, KeyOptions
from .sources import Segment


class LipSyncError(RuntimeError):
    """Bad input or a missing model: the message says what to do; nothing was changed."""


class ModelError(LipSyncError):
    """The model files are missing or broken, or the chosen runtime is not installed."""


class Cancelled(LipSyncError):
    """The user pressed Esc."""


@dataclass
class Report:
    """What one generated action holds, for the UI, the CLI's JSON and pipelines."""

    object: str
    source: str
    action: str
    nla_track: str | None
    keys: int
    shape_keys: int
    audio_seconds: float
    first_frame: int
    last_frame: int
    seconds: float

    def summary(self) -> str:
        where = f" on NLA track {self.nla_track}" if self.nla_track else ""
        return (
            f"{self.action}{where}: {self.keys} keys on {self.shape_keys} shape keys, "
            f"frames {self.first_frame}-{self.last_frame}, {self.audio_seconds:.1f} s of audio "
            f"in {self.seconds:.2f} s"
        )


@dataclass
class Job:
    """One prepared generation: inputs checked and read, nothing computed or written yet."""

    obj: bpy.types.Object
    segments: list[Segment]
    rows: list[MappingRow]
    style: Style
    post: PostProcess
    keys: KeyOptions
    use_nla: bool
    runtime: str
    values: list[dict[str, np.ndarray]] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)

    def compute(self, progress: Callable[[float], None] | None = None) -> None:
        """Run the network and retarget every segment (no bpy: safe on a worker thread)."""
        lipsync = _engine(self.runtime)
        self.values = []
        count = len(self.segments)
        for i, segment in enumerate(self.segments):

            def step(fraction: float, done: int = i) -> None:
                if self.cancel.is_set():  # raised inside the encoder loop: stops between chunks
                    raise Cancelled("cancelled: nothing was changed.")
                if progress:
                    progress((done + fraction) / count)

            step(0.0)
            self.values.append(shape_key_values(lipsync, segment, self.rows, self.style, self.post, step))

    def bake(self) -> list[Report]:
        """Write one new action per segment (main thread)."""
        if len(self.values) != len(self.segments):
            raise LipSyncError("nothing computed yet: call compute() first.")
        key = self.obj.data.shape_keys
        reports = []
        for segment, values in zip(self.segments, self.values, strict=True):
            result: BakeResult = baking.bake(
                key, segment.name, segment.first_frame, values, self.keys, self.use_nla
            )
            reports.append(self._report(segment, result))
        return reports

    def _report(self, segment: Segment, result: BakeResult) -> Report:
        return Report(
            self.obj.name,
            segment.name,
            result.action,
            result.nla_track,
            result.keys,
            result.shape_keys,
            segment.seconds,
            segment.first_frame,
            segment.first_frame + segment.frames - 1,
            time.perf_counter() - self.started,
        )


def shape_key_values(
    lipsync: LipSync,
    segment: Segment,
    rows: Sequence[MappingRow],
    style: Style,
    post: PostProcess,
    progress: Callable[[float], None] | None = None,
) -> dict[str, np.ndarray]:
    """Per shape key, one value per frame of the segment (cached features: re-styling is cheap)."""
    raw = lipsync.model_curves(segment.samples, style, progress)
    duration = (segment.frames - 1) / segment.fps
    curves = lipsync.post_process(raw, segment.fps, duration, post, segment.lead_s)
    return apply_mapping(curves, rows)


def _engine(runtime: str) -> LipSync:
    try:
        return engine.get_engine(runtime)
    except ModelFileError as exc:
        raise ModelError(str(exc)) from exc


# ---------------------------------------------------------------- checks


def check_target(obj: bpy.types.Object | None) -> bpy.types.Key:
    """The shape-key datablock to animate, or LipSyncError saying what is wrong."""
    if obj is None:
        raise LipSyncError("no target object: select a mesh with shape keys.")
    if obj.type != "MESH":
        raise LipSyncError(
            f'"{obj.name}" is a {obj.type.lower()}, not a mesh: select the character\'s face mesh.'
        )
    key = obj.data.shape_keys
    if key is None or len(key.key_blocks) < 2:
        raise LipSyncError(f'"{obj.name}" has no shape keys to animate: add mouth shape keys first.')
    if obj.library is not None and obj.override_library is None:
        raise LipSyncError(
            f'"{obj.name}" is linked from {obj.library.filepath}: make a library override '
            "(Object > Library Override > Make > Selected & Content) and try again."
        )
    if key.library is not None or obj.data.library is not None:
        library = (key.library or obj.data.library).filepath
        raise LipSyncError(
            f'the shape keys of "{obj.name}" are linked from {library}: override its mesh data too '
            "(Outliner: right-click the mesh > Library Override > Make > Selected & Content)."
        )
    return key


def mapping_rows(
    obj: bpy.types.Object, preset: str | None, rows: Sequence[MappingRow] | None
) -> list[MappingRow]:
    """Rows that drive existing shape keys: explicit rows, a preset id, or auto-detection."""
    names = [kb.name for kb in obj.data.shape_keys.key_blocks[1:]]
    if rows is not None:
        usable = [r for r in rows if r.target in names]
    elif preset:
        if preset not in PRESETS:
            raise LipSyncError(f"unknown rig preset {preset!r}: use one of {', '.join(PRESETS)}.")
        usable = list(resolve(PRESETS[preset], names).rows)
    else:
        found = detect_preset(names)
        usable = list(found.rows) if found else []
    if not usable:
        raise LipSyncError(
            f'no shape key of "{obj.name}" matches the mapping: pick the rig preset that fits its '
            "shape-key names, or edit the mapping rows."
        )
    return usable


# ---------------------------------------------------------------- entry points


def prepare(
    obj: bpy.types.Object | None,
    *,
    scene: bpy.types.Scene | None = None,
    audio: str | None = None,
    strip: str | None = None,
    selected_strips: bool = False,
    start_frame: int | None = None,
    style: Style | None = None,
    post: PostProcess | None = None,
    preset: str | None = None,
    rows: Sequence[MappingRow] | None = None,
    keys: KeyOptions | None = None,
    use_nla: bool = False,
    runtime: str = "ONNX",
) -> Job:
    """Check and read every input; raises LipSyncError and changes nothing on bad input."""
    scene = scene or bpy.context.scene
    check_target(obj)
    usable = mapping_rows(obj, preset, rows)
    try:
        if audio:
            first = scene.frame_start if start_frame is None else start_frame
            segments = [sources.file_segment(scene, audio, first)]
        else:
            chosen = sources.choose_strips(scene, strip or "", selected_strips)
            segments = [sources.strip_segment(scene, s) for s in chosen]
    except (sources.SourceError, AudioError) as exc:
        raise LipSyncError(str(exc)) from exc
    return Job(
        obj,
        segments,
        usable,
        style or Style(),
        post or PostProcess(),
        keys or KeyOptions(),
        use_nla or len(segments) > 1,
        runtime,
    )


def generate(obj: bpy.types.Object | None, **options) -> list[Report]:
    """Lip-sync ``obj`` in one call (see ``prepare`` for the options); returns one report per action."""
    job = prepare(obj, **options)
    job.compute()
    return job.bake()


def clear(obj: bpy.types.Object) -> int:
    """Remove every action this add-on generated on ``obj``; returns how many."""
    key = check_target(obj)
    return baking.clear(key)

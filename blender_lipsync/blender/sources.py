"""Where the speech comes from: sound strips of the sequencer, or a file, with their timing.

A ``Segment`` is one piece of audio (mono, 16 kHz) plus the scene frames it is heard on.
Everything here reads the scene and never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from ..core.audio import MODEL_SAMPLE_RATE, AudioError, load_audio
from ..core.contract import frame_count
from . import compat

SILENCE_PEAK = 1e-4
"""Peak amplitude under which audio counts as silent (about -80 dBFS)."""


class SourceError(ValueError):
    """The chosen audio cannot be used; the message says what to do."""


@dataclass
class Segment:
    """Audio heard on scene frames ``first_frame`` .. ``first_frame + frames - 1``.

    The source time (s) heard at frame ``first_frame + k`` is ``lead_s + k / fps``.
    """

    name: str
    samples: np.ndarray  # mono float32, 16 kHz
    first_frame: int
    frames: int
    lead_s: float
    fps: float

    @property
    def seconds(self) -> float:
        return len(self.samples) / MODEL_SAMPLE_RATE


def strip_segment(scene: bpy.types.Scene, strip) -> Segment:
    """The audible part of a sound strip, timed exactly as Blender plays it."""
    if strip.type != "SOUND":
        raise SourceError(f'strip "{strip.name}" is not a sound strip: pick a sound strip.')
    if strip.mute:
        raise SourceError(f'sound strip "{strip.name}" is muted: unmute it or pick another strip.')
    if strip.sound is None:
        raise SourceError(f'sound strip "{strip.name}" has no sound data: re-add the audio file.')
    timing = compat.strip_timing(strip)
    if timing.right <= timing.left:
        raise SourceError(f'sound strip "{strip.name}" is trimmed to nothing: widen it in the sequencer.')
    fps = compat.scene_fps(scene)
    samples = _checked(_sound_audio(strip.sound), f'sound strip "{strip.name}"')
    lead = (timing.left - timing.content_start) / fps + timing.sound_offset
    return Segment(strip.name, samples, timing.left, timing.right - timing.left, lead, fps)


def file_segment(scene: bpy.types.Scene, filepath: str, first_frame: int) -> Segment:
    """A whole audio file, starting on scene frame ``first_frame``."""
    path = Path(bpy.path.abspath(filepath)) if filepath else None
    if path is None or not path.is_file():
        raise SourceError(f'audio file "{filepath}" not found: pick an existing file.')
    try:
        decoded = compat.read_file_with_aud(str(path))
        samples = load_audio(*decoded) if decoded is not None else load_audio(path)
    except Exception as exc:  # aud raises its own error type on undecodable files
        raise SourceError(f'cannot read "{path.name}" ({exc}): convert it to WAV or FLAC.') from exc
    samples = _checked(samples, f'"{path.name}"')
    fps = compat.scene_fps(scene)
    frames = frame_count(len(samples) / MODEL_SAMPLE_RATE, fps)
    return Segment(path.stem, samples, first_frame, frames, 0.0, fps)


def _sound_audio(sound) -> np.ndarray:
    decoded = compat.sound_samples(sound)
    if decoded is not None:
        return load_audio(*decoded)
    if sound.packed_file is not None:  # no Audaspace in this build: decode the packed bytes
        import tempfile

        suffix = Path(sound.filepath).suffix or ".wav"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"packed{suffix}"
            path.write_bytes(bytes(sound.packed_file.data))
            return load_audio(path)
    return load_audio(Path(bpy.path.abspath(sound.filepath)))


def _checked(samples: np.ndarray, what: str) -> np.ndarray:
    if len(samples) == 0:
        raise SourceError(f"{what} holds no audio: pick another file.")
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise SourceError(f"{what} is silent: check the file or the strip's source.")
    return samples


def choose_strips(scene: bpy.types.Scene, name: str = "", selected_only: bool = False) -> list:
    """The strips to lip-sync: the selected sound strips, the one called ``name``, or the only one."""
    sounds = compat.sound_strips(scene)
    if selected_only:
        chosen = [s for s in sounds if s.select]
        if not chosen:
            raise SourceError("no sound strip is selected: select strips in the sequencer.")
        return chosen
    if not sounds:
        raise SourceError("the scene has no sound strips: add one in the Video Sequencer, or use a file.")
    if not name:
        if len(sounds) > 1:
            raise SourceError("the scene has several sound strips: pick one, or use the selected strips.")
        return sounds
    for strip in sounds:
        if strip.name == name:
            return [strip]
    raise SourceError(f'no sound strip called "{name}": pick one of the scene\'s sound strips.')


__all__ = ["AudioError", "Segment", "SourceError", "choose_strips", "file_segment", "strip_segment"]

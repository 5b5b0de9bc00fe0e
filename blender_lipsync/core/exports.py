"""Curves out to other tools: JSON, CSV, Live Link Face CSV and Rhubarb Lip Sync cues.

Every writer takes an optional path, returns the text it wrote, and never needs bpy, so
the command line (``python -m blender_lipsync.core``) and the Blender panel share them.
"""

from __future__ import annotations

import heapq
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .contract import MOUTH_CHANNELS, RHUBARB_SHAPE_OF_VISEME, VISEMES, Curves

VALUE_DECIMALS = 4
"""Decimals kept for channel and viseme values: 1e-4 is far below what a viewer can see."""

LIVE_LINK_FACE_COLUMNS: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft",
    "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight",
    "JawForward", "JawRight", "JawLeft", "JawOpen",
    "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight", "MouthLeft",
    "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
    "MouthUpperUpLeft", "MouthUpperUpRight",
    "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight",
    "TongueOut",
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip
"""The 61 value columns of a Live Link Face take (.csv), after ``Timecode,BlendShapeCount``.

The app's own order: the 52 ARKit blendshapes in PascalCase (note JawRight before
JawLeft and MouthRight before MouthLeft), then head and eye rotations."""

LIVE_LINK_FACE_COLUMN_OF_CHANNEL: dict[str, str] = {n: n[0].upper() + n[1:] for n in MOUTH_CHANNELS}
"""Our ARKit channel -> its Live Link Face column (ARKit camelCase -> PascalCase)."""


def _rounded(values: np.ndarray) -> list[float]:
    return np.round(np.asarray(values, dtype=np.float64), VALUE_DECIMALS).tolist()


def _write(text: str, path: str | Path | None) -> str:
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")  # keep "\n": the writers chose line ends
    return text


def to_json(curves: Curves, path: str | Path | None = None, *, audio_name: str | None = None) -> str:
    """``{"fps", "frames", "channels": {name: [...]}, "visemes": {name: [...]}}`` (+ ``"audio"``)."""
    data: dict[str, object] = {"fps": float(curves.fps), "frames": curves.frames}
    if audio_name is not None:
        data["audio"] = audio_name
    data["channels"] = {name: _rounded(curves.channels[:, i]) for i, name in enumerate(MOUTH_CHANNELS)}
    data["visemes"] = {name: _rounded(curves.visemes[:, i]) for i, name in enumerate(VISEMES)}
    return _write(json.dumps(data, separators=(",", ":")) + "\n", path)


def _table(header: list[str], columns: list[np.ndarray], formats: list[str]) -> str:
    """CSV text from equal-length columns, one printf format per column (no quoting needed)."""
    buffer = io.StringIO()
    buffer.write(",".join(header) + "\n")
    if columns and len(columns[0]):
        table = np.column_stack([np.asarray(c, dtype=object) for c in columns])
        np.savetxt(buffer, table, fmt=formats, delimiter=",", newline="\n")
    return buffer.getvalue()


def to_csv(curves: Curves, path: str | Path | None = None) -> str:
    """``frame,time,<channels...>,viseme_<name>...``: one row per frame, time in seconds."""
    header = ["frame", "time", *MOUTH_CHANNELS, *(f"viseme_{v}" for v in VISEMES)]
    values = np.round(np.hstack([curves.channels, curves.visemes]).astype(np.float64), VALUE_DECIMALS)
    columns = [np.arange(curves.frames), curves.times, *values.T]
    formats = ["%d", "%.6f", *(["%.4f"] * values.shape[1])]
    return _write(_table(header, columns, formats), path)


def _parse_timecode(timecode: str, rate: int) -> int:
    """``HH:MM:SS:FF`` -> frames at the integer ``rate``."""
    parts = timecode.split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise ValueError(f"timecode must look like HH:MM:SS:FF, got {timecode!r}")
    hours, minutes, seconds, frames = (int(p) for p in parts)
    if minutes >= 60 or seconds >= 60 or frames >= rate:
        raise ValueError(f"timecode {timecode!r} is out of range at {rate} fps")
    return ((hours * 60 + minutes) * 60 + seconds) * rate + frames


def live_link_timecodes(frames: int, fps: float, start_timecode: str = "00:00:00:00") -> list[str]:
    """``HH:MM:SS:FF.mmm`` of the instants k / fps, counted at the nominal integer rate.

    Readers turn a timecode back into seconds as ``HH:MM:SS + FF.mmm / rate`` with
    rate = round(fps) (29.97 -> 30), so FF.mmm carries the exact instant: the subframe
    (thousandths of a frame) is only non-zero at fractional rates.
    """
    rate = max(1, round(fps))
    start = _parse_timecode(start_timecode, rate) * 1000
    # whole thousandths of a frame, in integers so that no 59.9999 ever prints
    milli = start + np.rint(np.arange(frames) * (rate * 1000.0 / fps)).astype(np.int64)
    frame_total, sub = np.divmod(milli, 1000)
    seconds_total, ff = np.divmod(frame_total, rate)
    minutes_total, ss = np.divmod(seconds_total, 60)
    hours, mm = np.divmod(minutes_total, 60)
    return [
        f"{h % 24:02d}:{m:02d}:{s:02d}:{f:02d}.{u:03d}"
        for h, m, s, f, u in zip(hours, mm, ss, ff, sub, strict=True)
    ]


def to_live_link_face_csv(
    curves: Curves, path: str | Path | None = None, start_timecode: str = "00:00:00:00"
) -> str:
    """A Live Link Face take: ``Timecode,BlendShapeCount,<61 columns>``, ours filled, the rest 0."""
    table = np.zeros((curves.frames, len(LIVE_LINK_FACE_COLUMNS)))
    column = {name: i for i, name in enumerate(LIVE_LINK_FACE_COLUMNS)}
    for i, name in enumerate(MOUTH_CHANNELS):
        table[:, column[LIVE_LINK_FACE_COLUMN_OF_CHANNEL[name]]] = curves.channels[:, i]
    header = ["Timecode", "BlendShapeCount", *LIVE_LINK_FACE_COLUMNS]
    columns = [
        np.asarray(live_link_timecodes(curves.frames, curves.fps, start_timecode), dtype=object),
        np.full(curves.frames, len(LIVE_LINK_FACE_COLUMNS)),
        *table.T,
    ]
    formats = ["%s", "%d", *(["%.6f"] * len(LIVE_LINK_FACE_COLUMNS))]
    return _write(_table(header, columns, formats), path)


# --- Rhubarb Lip Sync mouth cues -------------------------------------------------------------

CLOSED_SHAPE = "A"
"""Rhubarb's closed-lips shape (M B P): never absorbed, a missed closure is the worst lip-sync error."""

MIN_CUE_S = 0.05
"""Cues shorter than this (other than closures) are blips: they flicker rather than read."""


@dataclass(frozen=True)
class MouthCue:
    """One Rhubarb mouth cue: ``shape`` (A-H or X) shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    shape: str


@dataclass
class _Run:
    number: int  # position in the initial run list: the heap's handle on it
    first: int  # frame
    stop: int  # frame after the last
    shape: str
    prev: _Run | None = None
    next: _Run | None = None
    alive: bool = True


def _frame_shapes(curves: Curves) -> list[str]:
    shape_of = [RHUBARB_SHAPE_OF_VISEME[v] for v in VISEMES]
    return [shape_of[i] for i in curves.viseme_ids()]


def _shape_scores(curves: Curves, shapes: list[str]) -> np.ndarray:
    """(frames, len(shapes)): summed probability of the visemes drawn with each shape."""
    scores = np.zeros((curves.frames, len(shapes)))
    for i, viseme in enumerate(VISEMES):
        scores[:, shapes.index(RHUBARB_SHAPE_OF_VISEME[viseme])] += curves.visemes[:, i]
    return scores


def _runs(shapes: list[str]) -> list[_Run]:
    """Maximal runs of equal shapes, linked to their neighbours."""
    runs: list[_Run] = []
    for k, shape in enumerate(shapes):
        if runs and runs[-1].shape == shape:
            runs[-1].stop = k + 1
        else:
            runs.append(_Run(len(runs), k, k + 1, shape, prev=runs[-1] if runs else None))
            if runs[-1].prev is not None:
                runs[-1].prev.next = runs[-1]
    return runs


def _absorb(blip: _Run, scores: np.ndarray, shapes: list[str]) -> _Run:
    """Hand ``blip``'s frames to the neighbour whose shape fits them best; returns that neighbour."""
    sides = [r for r in (blip.prev, blip.next) if r is not None]

    def fit(run: _Run) -> tuple[float, int]:  # probability over the blip, then length breaks ties
        return float(scores[blip.first : blip.stop, shapes.index(run.shape)].sum()), run.stop - run.first

    into = max(sides, key=fit)
    into.first, into.stop = min(into.first, blip.first), max(into.stop, blip.stop)
    blip.alive = False
    _unlink(blip)
    other = into.prev if into is blip.next else into.next  # the blip's other side, now beside ``into``
    if other is not None and other.shape == into.shape:  # B [x] B -> one B
        into.first, into.stop = min(into.first, other.first), max(into.stop, other.stop)
        other.alive = False
        _unlink(other)
    return into


def _unlink(run: _Run) -> None:
    if run.prev is not None:
        run.prev.next = run.next
    if run.next is not None:
        run.next.prev = run.prev


def mouth_cues(
    curves: Curves, min_duration_s: float = MIN_CUE_S, duration_s: float | None = None
) -> list[MouthCue]:
    """Rhubarb-style cues from the most probable viseme per frame.

    Frame ``k`` holds from k / fps to (k + 1) / fps; the last cue ends at ``duration_s``
    (the audio length) when given. Runs shorter than ``min_duration_s`` are absorbed,
    shortest first, into the neighbour whose shape the model found more likely over
    them, except closed lips (A), which are always kept. Silence is X.
    """
    if curves.frames == 0:
        return []
    frame_shapes = _frame_shapes(curves)
    shapes = sorted(set(RHUBARB_SHAPE_OF_VISEME.values()))
    scores = _shape_scores(curves, shapes)
    min_frames = min_duration_s * curves.fps
    runs = _runs(frame_shapes)
    heap = [(r.stop - r.first, r.first, r.number) for r in runs]
    heapq.heapify(heap)
    while heap:
        length, first, i = heapq.heappop(heap)
        run = runs[i]
        if not run.alive or (run.stop - run.first, run.first) != (length, first):
            continue  # stale entry: the run grew or was merged since it was pushed
        if length >= min_frames - 1e-9:
            break  # shortest live run is long enough: so are all others
        if run.shape == CLOSED_SHAPE or (run.prev is None and run.next is None):
            continue
        grown = _absorb(run, scores, shapes)
        heapq.heappush(heap, (grown.stop - grown.first, grown.first, grown.number))
    live = [r for r in runs if r.alive]
    last_frame_s = (curves.frames - 1) / curves.fps
    end = curves.frames / curves.fps if duration_s is None else max(duration_s, last_frame_s)
    cues = [MouthCue(r.first / curves.fps, r.stop / curves.fps, r.shape) for r in live]
    cues[-1] = MouthCue(cues[-1].start, end, cues[-1].shape)
    return cues


def _centiseconds(cues: list[MouthCue]) -> list[tuple[int, int, str]]:
    """Cue times on Rhubarb's 10 ms grid, each cue at least 10 ms long (above 100 fps they could collapse)."""
    rows: list[tuple[int, int, str]] = []
    for cue in cues:
        start = round(cue.start * 100) if not rows else rows[-1][1]
        end = max(round(cue.end * 100), start + 1)
        rows.append((start, end, cue.shape))
    return rows


def to_rhubarb_tsv(cues: list[MouthCue], path: str | Path | None = None) -> str:
    """Rhubarb's ``tsv`` output: ``start<TAB>shape`` per cue, then ``end<TAB>X`` closing the last one."""
    rows = _centiseconds(cues)
    lines = [f"{start / 100:.2f}\t{shape}" for start, _, shape in rows]
    if rows:
        lines.append(f"{rows[-1][1] / 100:.2f}\tX")
    return _write("".join(line + "\n" for line in lines), path)


def to_rhubarb_json(
    cues: list[MouthCue], path: str | Path | None = None, sound_file: str = "", duration: float | None = None
) -> str:
    """Rhubarb's ``json`` output: ``{"metadata": {"soundFile", "duration"}, "mouthCues": [...]}``."""
    rows = _centiseconds(cues)
    if duration is None:
        duration = rows[-1][1] / 100 if rows else 0.0
    # Rhubarb prints times with exactly two decimals; json.dumps cannot, so format by hand
    cue_lines = ",\n".join(
        f'    {{ "start": {start / 100:.2f}, "end": {end / 100:.2f}, "value": "{shape}" }}'
        for start, end, shape in rows
    )
    text = (
        "{\n"
        '  "metadata": {\n'
        f'    "soundFile": {json.dumps(str(sound_file))},\n'
        f'    "duration": {duration:.2f}\n'
        "  },\n"
        '  "mouthCues": [\n'
        f"{cue_lines}{chr(10) if rows else ''}"
        "  ]\n"
        "}\n"
    )
    return _write(text, path)

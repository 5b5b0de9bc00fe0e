"""The README's demo: the cartoon head lip-syncs the bundled clip, in a real Blender scene.

    .venv/blender52/bin/python tools/demo_scene.py --out out/demo [--frames 8] [--size 256] [--video]

Builds a fresh 24 fps scene with the demo head (tools/demo_head.py) and a sound strip
"Demo" of ``assets/demo/demo.wav`` at frame 1, registers the add-on and runs
``api.generate(head, strip="Demo", preset="arkit")``.  Writes to ``--out``:

* ``demo.blend``: the scene, keys and all (paths relative to the .blend);
* ``curves.json``: per frame, every shape key's value read back from its F-curve, the
  phone list of the clip and which frames were rendered (``tools/demo_report.py`` plots it);
* ``frames/frame_XXXX.png``: a few frames at telling phones (open vowels, /p b m/,
  rounded /u w oʊ/, silence, /f v/), spread over the clip;
* with ``--video``: ``demo.mp4``, every frame with the sound (slow: about 1 s a frame).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import bpy

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import blender_lipsync  # noqa: E402
from blender_lipsync.blender import api, compat  # noqa: E402
from tools.demo_head import build_demo_head, setup_scene  # noqa: E402

DEMO_WAV = ROOT / "assets" / "demo" / "demo.wav"
DEMO_PHONES = ROOT / "assets" / "demo" / "demo.phones.json"
FPS = 24
FIRST_FRAME = 1
STRIP = "Demo"

CATEGORIES: dict[str, frozenset[str]] = {
    "open vowel": frozenset({"ɑ", "æ", "aɪ", "aʊ", "ɔ", "ʌ", "ɛ", "a", "ɒ"}),
    "p/b/m": frozenset({"p", "b", "m"}),
    "rounded": frozenset({"u", "w", "ʊ", "oʊ", "o", "ɔɪ"}),
    "silence": frozenset({"_", "sil", ""}),
    "f/v": frozenset({"f", "v"}),
}
ORDER = ("open vowel", "p/b/m", "rounded", "silence", "open vowel", "p/b/m", "rounded", "f/v")
"""Which kind of phone each rendered frame shows, in turn (repeats for more frames)."""


@dataclass(frozen=True)
class Shot:
    """One rendered frame: where it is and which phone it shows."""

    frame: int
    time: float
    phone: str
    category: str
    file: str


def phone_frame(start: float, end: float) -> int:
    """The scene frame at the middle of a phone (the strip starts at FIRST_FRAME)."""
    return FIRST_FRAME + round((start + end) / 2 * FPS)


def spread(phone: tuple[str, float, float], taken: set[int]) -> tuple[float, float]:
    """How far a phone's frame lies from the frames already taken (then: how long the phone is)."""
    frame = phone_frame(phone[1], phone[2])
    return min((abs(frame - f) for f in taken), default=0), phone[2] - phone[1]


def choose_shots(phones: list[tuple[str, float, float]], count: int) -> list[Shot]:
    """``count`` frames at telling phones: kinds in ORDER, each as far as possible from the others."""
    chosen: list[Shot] = []
    for i in range(count * len(ORDER)):
        if len(chosen) == count:
            break
        category = ORDER[i % len(ORDER)]
        taken = {s.frame for s in chosen}
        candidates = [
            phone
            for phone in phones
            if phone[0] in CATEGORIES[category] and phone_frame(phone[1], phone[2]) not in taken
        ]
        if not candidates:
            continue
        label, start, end = max(candidates, key=lambda phone: spread(phone, taken))
        frame = phone_frame(start, end)
        file = f"frames/frame_{frame:04d}.png"
        chosen.append(Shot(frame, (frame - FIRST_FRAME) / FPS, label, category, file))
    return sorted(chosen, key=lambda s: s.frame)


def build_scene(size: int, samples: int) -> tuple[bpy.types.Scene, bpy.types.Object]:
    """A fresh 24 fps scene with the head, camera, lights and the "Demo" sound strip at frame 1."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = FPS, 1.0
    head = build_demo_head()
    setup_scene(scene, head, size=size, samples=samples)
    strip = compat.new_sound_strip(scene, STRIP, str(DEMO_WAV), channel=1, frame_start=FIRST_FRAME)
    timing = compat.strip_timing(strip)
    scene.frame_start, scene.frame_end = timing.left, timing.right - 1
    return scene, head


def baked_values(head: bpy.types.Object, action_name: str, frames: range) -> dict[str, list[float]]:
    """Shape-key name -> value at each frame, evaluated from the generated action's F-curves."""
    action = bpy.data.actions[action_name]
    values = {}
    for fc in compat.iter_action_fcurves(action):
        name = fc.data_path.split('"')[1]
        values[name] = [round(fc.evaluate(float(f)), 5) for f in frames]
    order = [kb.name for kb in head.data.shape_keys.key_blocks[1:]]
    return {name: values[name] for name in order if name in values}


def render_shots(scene: bpy.types.Scene, out: Path, shots: list[Shot]) -> None:
    (out / "frames").mkdir(parents=True, exist_ok=True)
    for shot in shots:
        scene.frame_set(shot.frame)
        scene.render.filepath = str(out / shot.file)
        bpy.ops.render.render(write_still=True)


def render_video(scene: bpy.types.Scene, out: Path) -> None:
    """Every frame of the clip with its sound, as H.264 + AAC in ``demo.mp4``."""
    settings = scene.render.image_settings
    if hasattr(settings, "media_type"):  # 5.0+
        settings.media_type = "VIDEO"
    settings.file_format = "FFMPEG"
    scene.render.ffmpeg.format = "MPEG4"
    scene.render.ffmpeg.codec = "H264"
    scene.render.ffmpeg.audio_codec = "AAC"
    scene.render.filepath = str(out / "demo.mp4")
    scene.render.use_file_extension = False
    bpy.ops.render.render(animation=True)


def save_blend(path: Path) -> None:
    """Save, with the sound's path made relative so the .blend works from any checkout."""
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.file.make_paths_relative()
    bpy.ops.wm.save_mainfile()
    path.with_suffix(".blend1").unlink(missing_ok=True)  # the backup of the first save


def write_curves(path: Path, head, report: api.Report, shots: list[Shot], timings: dict) -> None:
    phones_doc = json.loads(DEMO_PHONES.read_text())
    frames = range(report.first_frame, report.last_frame + 1)
    doc = {
        "fps": FPS,
        "strip_start": FIRST_FRAME,
        "text": phones_doc.get("text", ""),
        "report": report.summary(),
        "frames": list(frames),
        "times": [round((f - FIRST_FRAME) / FPS, 5) for f in frames],
        "shape_keys": baked_values(head, report.action, frames),
        "phones": phones_doc["phones"],
        "renders": [asdict(s) for s in shots],
        "timings_s": timings,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo")
    parser.add_argument("--frames", type=int, default=8, help="how many frames to render (0: none)")
    parser.add_argument("--size", type=int, default=256, help="render width and height in pixels")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--video", action="store_true", help="also render demo.mp4 (every frame, slow)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    timings, t0 = {}, time.perf_counter()

    scene, head = build_scene(args.size, args.samples)
    blender_lipsync.register()
    timings["scene"] = time.perf_counter() - t0
    try:
        (report,) = api.generate(head, strip=STRIP, preset="arkit")
    finally:
        blender_lipsync.unregister()  # frees the ONNX sessions (bpy 4.5 hangs at exit otherwise)
    print(report.summary())
    timings["generate"] = time.perf_counter() - t0 - timings["scene"]

    phones = [tuple(p) for p in json.loads(DEMO_PHONES.read_text())["phones"]]
    shots = choose_shots(phones, args.frames)
    save_blend(out / "demo.blend")
    t1 = time.perf_counter()
    render_shots(scene, out, shots)
    timings["render"] = time.perf_counter() - t1
    if args.video:
        t2 = time.perf_counter()
        render_video(scene, out)
        timings["video"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    timings = {k: round(v, 2) for k, v in timings.items()}
    write_curves(out / "curves.json", head, report, shots, timings)
    for shot in shots:
        print(f"frame {shot.frame:3d}  {shot.time:5.2f} s  /{shot.phone}/  ({shot.category})  {shot.file}")
    print(f"wrote {out}: demo.blend, curves.json, {len(shots)} frames; seconds {timings}")


if __name__ == "__main__":
    main()

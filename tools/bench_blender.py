"""Generate and re-generate timings inside Blender (bpy), printed as figures, not asserted.

    .venv/blender52/bin/python tools/bench_blender.py [--seconds 60] [--runtime ONNX]

Builds a face with the 29 ARKit shape keys and one sound strip of real speech looped to
``--seconds``, then times: the first Generate (audio decode, encoder, decoder, bake), and
Generate again with another style (the encoder features are cached: decoder, retarget
and bake only), the second number being what an animator waits for when tuning sliders.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_speech(path: Path, seconds: float) -> None:
    from lipsync_train.bench import speech

    samples = speech(seconds)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--runtime", default="ONNX", choices=("ONNX", "TORCH"))
    args = p.parse_args(argv)
    import bpy

    import blender_lipsync
    from blender_lipsync.blender import api, compat
    from blender_lipsync.core.style import Style
    from tests.blender.helpers import make_face

    blender_lipsync.register()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    face = make_face()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        write_speech(wav, args.seconds)
        compat.new_sound_strip(bpy.context.scene, "Speech", str(wav), channel=1, frame_start=1)
        rows = []
        for label, style in (("first generate", Style()), ("re-generate, new style", Style(jaw=1.5))):
            started = time.perf_counter()
            (report,) = api.generate(face, strip="Speech", style=style, runtime=args.runtime)
            rows.append((label, time.perf_counter() - started, report.keys))
    print(
        f"Blender {bpy.app.version_string}, {args.runtime}, {args.seconds:.0f} s of speech at 24 fps, "
        "29 shape keys, reduced keys:"
    )
    for label, seconds, keys in rows:
        print(f"  {label:<24} {seconds:6.2f} s  ({keys} keys)")
    blender_lipsync.unregister()  # frees the ONNX engine; bpy 4.5 hangs at exit with it loaded
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bundled demo: ``python build.py demo [--fps 24] [--out out/demo]``.

Scores the shipped model (onnxruntime) on ``assets/demo/demo.wav`` with the yardstick,
against the teacher on the clip's exact phone timing (the reference every model is
measured against) and the energy baseline.  Writes the reference curves as JSON, a PNG
plot of all three, and prints a metrics table.  ``build.py demo`` runs this after the
Blender part (``tools/demo_scene.py``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from blender_lipsync.core.audio import load_audio
from blender_lipsync.core.contract import MOUTH_CHANNELS, VISEMES

from .evaluation import metrics
from .evaluation.predictors import energy_baseline, teacher_curves
from .phonemes import Phone
from .plots import plot_teacher

ROOT = Path(__file__).resolve().parent.parent
DEMO_WAV = ROOT / "assets" / "demo" / "demo.wav"
DEMO_PHONES = ROOT / "assets" / "demo" / "demo.phones.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py demo")
    parser.add_argument("--fps", type=float, default=24.0)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo")
    args = parser.parse_args(argv)
    audio, phones, meta = load_demo()
    lipsync = teacher_curves(audio, phones, args.fps)
    duration = len(audio) / 16000
    baseline = energy_baseline(audio, args.fps)
    rows = [("teacher", lipsync), ("model", _shipped_model(audio, args.fps)), ("energy baseline", baseline)]
    args.out.mkdir(parents=True, exist_ok=True)
    curves_path = args.out / "demo_curves.json"
    curves_path.write_text(
        json.dumps(
            {
                "fps": args.fps,
                "text": meta["text"],
                "channels": list(MOUTH_CHANNELS),
                "visemes": list(VISEMES),
                "channel_values": lipsync.channels.round(4).tolist(),
                "viseme_probs": lipsync.visemes.round(4).tolist(),
            }
        )
    )
    plot_path = args.out / "demo.png"
    plot_teacher(
        audio,
        16000,
        phones,
        rows,
        f"demo ({meta['voice']}): {meta['text']}",
        plot_path,
    )
    print(f"demo clip: {DEMO_WAV.name}, {duration:.2f} s, {lipsync.frames} frames at {args.fps} fps")
    print(
        f"{'predictor':16s} {'viseme acc':>10s} {'closure':>8s} {'false cl':>8s} "
        f"{'jaw r':>6s} {'L2':>6s} {'lag':>4s}"
    )
    for name, curves in rows:
        s = metrics.score(curves, lipsync, phones)
        print(
            f"{name:16s} {s['viseme_accuracy']:10.3f} {s['bilabial_recall']:8.3f} "
            f"{s['false_closure_rate']:8.3f} {s['jaw_correlation']:6.3f} {s['mouth_l2']:6.3f} "
            f"{s['lag_frames']!s:>4s}"
        )
    print(f"wrote {curves_path} and {plot_path}")
    return 0


def load_demo() -> tuple[np.ndarray, list[Phone], dict]:
    """The demo clip (16 kHz), its exact phones, and its metadata (text, voice)."""
    meta = json.loads(DEMO_PHONES.read_text(encoding="utf-8"))
    return load_audio(DEMO_WAV), [Phone(*p) for p in meta["phones"]], meta


def _shipped_model(audio, fps: float):
    """The shipped model on the clip, through the runtime Blender uses (onnxruntime)."""
    from .evaluation.model_predictor import onnx_predictor

    return onnx_predictor()(audio, fps)


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed and memory benchmark: ``python build.py bench [--model DIR] [--durations 10 60 600]``.

Prints, for torch and onnxruntime on this machine, the real-time factor (audio
seconds per wall second, end to end from a 16 kHz array to curves at 24 fps) for
speech of each duration, the peak resident memory of a process that did only that,
and the time to re-style cached features (decoder only).  Each measurement runs in a
fresh subprocess so peak memory is its own; inside it the run is repeated
(``--repeats``, features not cached) and the median time reported, since a shared
2-core machine's speed varies from one run to the next.  ``--device cuda`` runs the
torch rows on a GPU and prints how far its curves are from the CPU's.  A benchmark
prints figures; it is not a test and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def speech(seconds: float) -> np.ndarray:
    """Real speech, looped to ``seconds`` (the bundled demo clip plus real recordings)."""
    from blender_lipsync.core.audio import load_audio

    clips = [load_audio(ROOT / "assets" / "demo" / "demo.wav")]
    real = ROOT.parent / "shared" / "realspeech"
    clips += [load_audio(p) for p in sorted(real.glob("mfa_*corpus*.wav"))]
    loop = np.concatenate(clips)
    reps = int(np.ceil(seconds * 16000 / len(loop)))
    return np.tile(loop, reps)[: int(seconds * 16000)]


def peak_memory_mb() -> float:
    """This process's peak resident memory.  Linux's VmHWM belongs to the address space and
    starts afresh at exec; ru_maxrss would carry over the parent's peak into the child."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _backend(kind: str, folder: Path, threads: int, device: str = "cpu"):
    if kind == "torch":
        import torch

        from blender_lipsync.core.inference import TorchBackend

        torch.set_num_threads(threads)
        return TorchBackend.from_folder(folder, device=device)
    from blender_lipsync.core.onnx_backend import OnnxBackend

    return OnnxBackend(folder, threads=threads)


def _synchronize(device: str) -> None:
    """GPU work is asynchronous: wait for it before reading the clock."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def measure(
    kind: str, folder: Path, seconds: float, threads: int, device: str = "cpu", repeats: int = 5
) -> dict:
    """One measurement (run inside a fresh process): the median of ``repeats`` runs."""
    from blender_lipsync.core.inference import LipSync
    from blender_lipsync.core.style import Style

    audio = speech(seconds)
    backend = _backend(kind, folder, threads, device)
    LipSync(backend).curves(speech(2.0), sample_rate=16000, fps=24)  # warm-up (graph optimisation)
    walls, restyles = [], []
    for _ in range(repeats):
        lipsync = LipSync(backend)  # an empty feature cache: every run encodes
        _synchronize(device)
        start = time.perf_counter()
        lipsync.curves(audio, sample_rate=16000, fps=24)
        _synchronize(device)
        walls.append(time.perf_counter() - start)
        start = time.perf_counter()
        lipsync.curves(audio, sample_rate=16000, fps=24, style=Style(jaw=1.4, articulation=0.9))
        _synchronize(device)
        restyles.append(time.perf_counter() - start)
    wall = float(np.median(walls))
    return {
        "backend": "onnxruntime" if kind == "onnx" else f"torch:{device}",
        "seconds": seconds,
        "wall_s": wall,
        "wall_range_s": [min(walls), max(walls)],
        "rtf": seconds / wall,
        "restyle_s": float(np.median(restyles)),
        "peak_mb": peak_memory_mb(),
        "threads": threads,
        "repeats": repeats,
    }


def device_difference(folder: Path, seconds: float, device: str) -> float:
    """Largest absolute difference between the curves torch computes on ``device`` and on the CPU."""
    from blender_lipsync.core.inference import LipSync, TorchBackend

    audio = speech(seconds)
    curves = [
        LipSync(TorchBackend.from_folder(folder, device=d)).curves(audio, sample_rate=16000, fps=24)
        for d in ("cpu", device)
    ]
    return float(np.abs(curves[0].channels - curves[1].channels).max())


def _in_subprocess(kind: str, folder: Path, seconds: float, threads: int, device: str, repeats: int) -> dict:
    args = f"{kind!r}, Path({str(folder)!r}), {seconds}, {threads}, {device!r}, {repeats}"
    code = (
        f"import json; from lipsync_train.bench import measure; from pathlib import Path; "
        f"print(json.dumps(measure({args})))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _model_folders(model: Path | None, work: Path) -> tuple[Path, Path]:
    """(torch folder, onnx folder): the given model, or an untrained default-size one for speed."""
    from lipsync_train.export_onnx import export

    if model is None:
        from blender_lipsync.core.inference import save_model_folder
        from blender_lipsync.core.model import LipSyncModel, ModelConfig

        model = save_model_folder(LipSyncModel(ModelConfig()), work / "untrained")
    onnx_dir = model if (model / "encoder.onnx").is_file() else export(model, work / "onnx")
    return model, onnx_dir


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="build.py bench", description=__doc__.split("\n\n")[0])
    shipped = ROOT / "models" / "lipsync"
    p.add_argument(
        "--model",
        type=Path,
        default=shipped if (shipped / "config.json").is_file() else None,
        help="model folder (default: the shipped models/lipsync, else an untrained default-size model)",
    )
    p.add_argument("--durations", type=float, nargs="+", default=[10.0, 60.0, 600.0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--repeats", type=int, default=5, help="runs per measurement; the median is printed")
    p.add_argument("--device", default="cpu", help="where the torch rows run: cpu, cuda, cuda:1, ...")
    p.add_argument(
        "--backends", nargs="+", choices=("torch", "onnxruntime"), default=["torch", "onnxruntime"]
    )
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        torch_dir, onnx_dir = _model_folders(args.model, Path(tmp))
        print(
            f"model: {args.model or 'untrained, default size'}; {args.threads} threads; "
            f"{os.cpu_count()} CPUs; median of {args.repeats} runs (range of wall s in brackets)"
        )
        header = ("backend", "audio s", "wall s", "(range)", "x real time", "re-style s", "peak MB")
        print("{:12s} {:>8s} {:>8s} {:>13s} {:>12s} {:>11s} {:>8s}".format(*header))
        for kind, folder in (("torch", torch_dir), ("onnxruntime", onnx_dir)):
            if kind not in args.backends:
                continue
            for seconds in args.durations:
                r = _in_subprocess(
                    "torch" if kind == "torch" else "onnx",
                    folder,
                    seconds,
                    args.threads,
                    args.device,
                    args.repeats,
                )
                rows.append(r)
                spread = "({:.2f}-{:.2f})".format(*r["wall_range_s"])
                print(
                    f"{r['backend']:12s} {seconds:8.0f} {r['wall_s']:8.2f} {spread:>13s} {r['rtf']:12.1f} "
                    f"{r['restyle_s']:11.3f} {r['peak_mb']:8.0f}",
                    flush=True,
                )
        if args.device != "cpu" and "torch" in args.backends:
            diff = device_difference(torch_dir, 60.0, args.device)
            print(f"torch {args.device} against cpu, 60 s at 24 fps: max |curve difference| = {diff:.2e}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

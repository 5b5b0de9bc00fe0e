"""Lip-sync from the command line, without Blender.

    python -m blender_lipsync.core vo.wav --out vo.json --fps 24 --style jaw=1.3,articulation=0.8
    python -m blender_lipsync.core vo.wav --out vo_cues.tsv            # Rhubarb Lip Sync cues
    python -m blender_lipsync.core vo.wav --out take.csv --format livelink

Exit codes: 0 done, 2 bad arguments, 3 audio that cannot be read, 4 model that cannot be loaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import exports
from .audio import MODEL_SAMPLE_RATE, AudioError, load_audio
from .contract import Curves
from .inference import Backend, LipSync, ModelFileError, PostProcess, TorchBackend, default_model_folder
from .style import STYLE_FIELDS, Style, style_from_text

FORMATS = ("json", "csv", "livelink", "rhubarb-tsv", "rhubarb-json")
FORMAT_OF_SUFFIX = {".json": "json", ".csv": "csv", ".tsv": "rhubarb-tsv"}

EXIT_OK, EXIT_USAGE, EXIT_AUDIO, EXIT_MODEL = 0, 2, 3, 4


class UsageError(Exception):
    """A bad command line: reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)  # argparse would print usage and sys.exit: main() reports instead


def parse_style(text: str | None) -> Style:
    """``"intensity=1.2,jaw=0.8"`` -> ``Style``; bad fields or values are UsageErrors."""
    try:
        return style_from_text(text)
    except ValueError as exc:
        raise UsageError(f"--style: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m blender_lipsync.core", description="Speech in, mouth curves out.")
    p.add_argument("audio", type=Path, help="audio file (wav, flac, ogg, mp3)")
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    p.add_argument("--format", choices=FORMATS, help="default: from --out's extension, else json")
    p.add_argument("--fps", type=float, default=24.0, help="frame rate of the output (default 24)")
    fields = ", ".join(f"{f.name} {f.low}..{f.high}" for f in STYLE_FIELDS)
    p.add_argument("--style", default="", help=f"comma-separated name=value ({fields})")
    p.add_argument("--smoothing-ms", type=float, default=PostProcess.smoothing_ms)
    p.add_argument("--smoothing-order", type=int, default=PostProcess.smoothing_order)
    p.add_argument("--anticipation-ms", type=float, default=PostProcess.anticipation_ms)
    p.add_argument(
        "--seal-threshold",
        type=float,
        default=PostProcess.seal_threshold,
        help="seal the lips where the p/b/m probability peaks at least this (0..1; 1 = off; "
        f"default {PostProcess.seal_threshold})",
    )
    p.add_argument(
        "--vowel-open-threshold",
        type=float,
        default=PostProcess.vowel_open_threshold,
        help="part lips the curves shut where the vowel probability is at least this (0..1; 1 = off; "
        f"default {PostProcess.vowel_open_threshold})",
    )
    p.add_argument(
        "--model", type=Path, help="model folder (default: the shipped model, or $BLENDER_LIPSYNC_MODEL)"
    )
    p.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto")
    return p


def output_format(args: argparse.Namespace) -> str:
    """--format, else what --out's extension says, else json."""
    if args.format:
        return args.format
    if args.out is None:
        return "json"
    suffix = args.out.suffix.lower()
    if suffix not in FORMAT_OF_SUFFIX:
        raise UsageError(f"cannot tell the format of {args.out.name!r}: pass --format {'|'.join(FORMATS)}")
    return FORMAT_OF_SUFFIX[suffix]


def check_numbers(args: argparse.Namespace) -> None:
    if not args.fps > 0:
        raise UsageError(f"--fps must be positive, got {args.fps}")
    if not args.smoothing_ms >= 0:
        raise UsageError(f"--smoothing-ms must be >= 0, got {args.smoothing_ms}")
    if args.smoothing_order < 0:
        raise UsageError(f"--smoothing-order must be >= 0, got {args.smoothing_order}")
    for flag, value in (
        ("--seal-threshold", args.seal_threshold),
        ("--vowel-open-threshold", args.vowel_open_threshold),
    ):
        if not 0 <= value <= 1:
            raise UsageError(f"{flag} must be within 0..1, got {value}")


def load_backend(folder: Path, kind: str) -> Backend:
    """ONNX when asked, or on auto when the folder has it and onnxruntime imports; else torch."""
    from .onnx_backend import ENCODER_FILE

    if kind == "auto":
        kind = "onnx" if (folder / ENCODER_FILE).is_file() and _imports("onnxruntime") else "torch"
    if kind == "onnx":
        if not _imports("onnxruntime"):
            raise ModelFileError(
                "onnxruntime is not installed: pip install onnxruntime or use --backend torch"
            )
        from .onnx_backend import OnnxBackend

        return OnnxBackend(folder)
    if not _imports("torch"):
        raise ModelFileError(f"torch is not installed and {folder} has no ONNX model: install one of them")
    return TorchBackend.from_folder(folder)


def _imports(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def render(curves: Curves, fmt: str, out: Path | None, audio: Path, duration: float) -> str:
    """The chosen format's text, written to ``out`` when given."""
    writers: dict[str, Callable[[], str]] = {
        "json": lambda: exports.to_json(curves, out, audio_name=audio.name),
        "csv": lambda: exports.to_csv(curves, out),
        "livelink": lambda: exports.to_live_link_face_csv(curves, out),
        "rhubarb-tsv": lambda: exports.to_rhubarb_tsv(exports.mouth_cues(curves, duration_s=duration), out),
        "rhubarb-json": lambda: exports.to_rhubarb_json(
            exports.mouth_cues(curves, duration_s=duration), out, sound_file=str(audio), duration=duration
        ),
    }
    return writers[fmt]()


def run(args: argparse.Namespace) -> int:
    fmt = output_format(args)
    check_numbers(args)
    style = parse_style(args.style)
    post = PostProcess(
        args.smoothing_ms,
        args.smoothing_order,
        args.anticipation_ms,
        args.seal_threshold,
        args.vowel_open_threshold,
    )
    started = time.perf_counter()
    samples = load_audio(args.audio)  # before the model: a typo in the path should not cost a load
    duration = len(samples) / MODEL_SAMPLE_RATE
    backend = load_backend(args.model or default_model_folder(), args.backend)
    curves = LipSync(backend).curves(samples, MODEL_SAMPLE_RATE, fps=args.fps, style=style, post=post)
    try:
        text = render(curves, fmt, args.out, args.audio, duration)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.out is None:
        sys.stdout.write(text)
    where = args.out if args.out is not None else "stdout"
    print(
        f"lipsync: {args.audio.name} {duration:.2f} s -> {curves.frames} frames at {args.fps:g} fps, "
        f"{fmt} to {where} ({backend.name}, {time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for user errors)."""
    try:
        return run(build_parser().parse_args(argv))
    except UsageError as exc:
        return _fail(EXIT_USAGE, f"{exc} (see --help)")
    except (AudioError, FileNotFoundError) as exc:
        return _fail(EXIT_AUDIO, f"audio: {exc}")
    except ModelFileError as exc:
        return _fail(EXIT_MODEL, f"model: {exc}")
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK


def _fail(code: int, message: str) -> int:
    print(f"lipsync: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Headless lip-sync inside Blender, for batch work and pipelines.

    blender -b shot.blend --python <extension>/cli.py -- --object Face --strip Dialog --save out.blend
    blender -b shot.blend --python <extension>/cli.py -- --object Face --audio vo.wav --start-frame 101 \\
        --preset arkit --style jaw=1.2 --keys reduced --report report.json --save shot.blend
    blender -b shot.blend --python <extension>/cli.py -- --batch jobs.json --save out.blend

``--batch`` takes a JSON list of jobs, each with the same keys as the options
(``{"object": "Face", "audio": "vo_001.wav", "start_frame": 1}``); every job runs,
failures are reported, and the file is saved only when at least one job succeeded.
With Blender as a Python module (``import bpy``), ``--blend FILE`` opens the scene first.

Exit codes: 0 done, 2 bad arguments, 3 bad input (audio, strip, object, mapping),
4 model missing or broken, 5 some batch jobs failed (the others were saved).
The JSON report (``--report``) lists one entry per generated action or failed job.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_USAGE, EXIT_INPUT, EXIT_MODEL, EXIT_PARTIAL = 0, 2, 3, 4, 5
KEY_MODES = ("every", "reduced", "stepped")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SystemExit(_fail(EXIT_USAGE, f"bad arguments: {message}"))


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cli.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--blend", help="open this .blend first (only needed with bpy as a Python module)")
    p.add_argument("--object", help="mesh with shape keys (default: the active object)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--audio", help="audio file (wav, flac, ogg, mp3, ...)")
    source.add_argument("--strip", help="sound strip of the scene's sequencer")
    source.add_argument("--selected-strips", action="store_true", help="every selected sound strip")
    source.add_argument("--batch", help="JSON file: a list of jobs with the keys of these options")
    p.add_argument("--start-frame", type=int, help="scene frame where --audio starts (default: scene start)")
    p.add_argument("--preset", help="rig preset id (default: auto-detect from the shape-key names)")
    p.add_argument("--look", help="style preset: natural, subtle, cartoon, snappy")
    p.add_argument("--style", help="style fields, e.g. jaw=1.3,articulation=0.8 (over the look)")
    p.add_argument("--smoothing-ms", type=float, help="Savitzky-Golay window in ms (0 = off)")
    p.add_argument("--smoothing-order", type=int, help="Savitzky-Golay order")
    p.add_argument(
        "--seal-threshold", type=float, help="seal the lips where P(p/b/m) peaks at least this (1 = off)"
    )
    p.add_argument("--keys", choices=KEY_MODES, help="every frame, reduced (sparse) or stepped")
    p.add_argument("--tolerance", type=float, default=0.01, help="largest error of reduced keys")
    p.add_argument("--step", type=int, help="frames per pose for stepped keys")
    p.add_argument("--nla", action="store_true", help="put each new action on its own NLA track")
    p.add_argument("--runtime", choices=("onnx", "torch"), default="onnx")
    p.add_argument("--save", help="write the .blend here (default: do not save)")
    p.add_argument("--report", help="write the JSON report here (default: print it)")
    return p


def _fail(code: int, message: str) -> int:
    print(f"lipsync: error: {message}", file=sys.stderr)
    return code


def _package() -> str:
    """Name of the add-on package, registered once (it may already be enabled as an extension)."""
    import importlib

    import bpy

    here = Path(__file__).resolve().parent
    loaded = [
        name
        for name, module in list(sys.modules.items())
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == here / "__init__.py"
    ]
    if loaded:
        name = loaded[0]
    else:
        sys.path.insert(0, str(here.parent))
        name = here.name
    if not hasattr(bpy.types.Scene, "lipsync"):
        importlib.import_module(name).register()
    return name


def job_options(job: dict, defaults: argparse.Namespace, package: str) -> tuple:
    """(object, keyword options for api.prepare) for one job; LookupError/ValueError on bad values."""
    from importlib import import_module

    import bpy

    style_mod = import_module(f"{package}.core.style")
    post_cls = import_module(f"{package}.core.inference").PostProcess
    key_cls = import_module(f"{package}.blender.bake").KeyOptions
    values = {**vars(defaults), **{k.replace("-", "_"): v for k, v in job.items()}}
    name = values.get("object")
    obj = bpy.data.objects.get(name) if name else bpy.context.active_object
    if name and obj is None:
        raise LookupError(f'no object called "{name}" in the scene')
    look = style_mod.LOOKS.get((values.get("look") or "natural").lower())
    if look is None:
        raise ValueError(f"unknown look {values['look']!r}: use one of {', '.join(style_mod.LOOKS)}")
    style = style_mod.style_from_text(values.get("style"), base=look.style)
    post = post_cls(
        smoothing_ms=_pick(values, "smoothing_ms", look.smoothing_ms),
        smoothing_order=_pick(values, "smoothing_order", look.smoothing_order),
        seal_threshold=_pick(values, "seal_threshold", post_cls.seal_threshold),
    )
    mode = (values.get("keys") or look.key_mode).upper()
    keys = key_cls(mode, values["tolerance"], _pick(values, "step", look.step))
    options = {
        "audio": values.get("audio"),
        "strip": values.get("strip"),
        "selected_strips": bool(values.get("selected_strips")),
        "start_frame": values.get("start_frame"),
        "preset": values.get("preset"),
        "style": style,
        "post": post,
        "keys": keys,
        "use_nla": bool(values.get("nla")),
        "runtime": values["runtime"].upper(),
    }
    return obj, options


def _pick(values: dict, name: str, fallback):
    return fallback if values.get(name) is None else values[name]


def run_jobs(jobs: list[dict], args: argparse.Namespace, package: str) -> tuple[list[dict], int]:
    """Run every job; returns the report entries and the worst exit code."""
    from importlib import import_module

    api = import_module(f"{package}.blender.api")
    entries, worst = [], EXIT_OK
    for job in jobs:
        code, entry = EXIT_OK, {"job": job}
        try:
            obj, options = job_options(job, args, package)
            entry["actions"] = [vars(r) for r in api.generate(obj, **options)]
        except api.ModelError as exc:
            code, entry["error"] = EXIT_MODEL, str(exc)
        except (api.LipSyncError, LookupError, ValueError) as exc:
            code, entry["error"] = EXIT_INPUT, str(exc)
        if code:
            print(f"lipsync: error: {entry['error']}", file=sys.stderr)
        worst = max(worst, code)
        entries.append(entry)
    return entries, worst


def main(argv: list[str] | None = None) -> int:
    import bpy

    if argv is None:  # Blender passes a script's own arguments after "--"
        if "--" in sys.argv:
            argv = sys.argv[sys.argv.index("--") + 1 :]
        else:
            argv = [] if bpy.app.binary_path else sys.argv[1:]
    args = parser().parse_args(argv)

    if args.blend:
        bpy.ops.wm.open_mainfile(filepath=args.blend)
    package = _package()
    try:
        jobs = json.loads(Path(args.batch).read_text()) if args.batch else [{}]
    except (OSError, ValueError) as exc:
        return _fail(EXIT_USAGE, f"cannot read the batch file {args.batch}: {exc}")
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        return _fail(EXIT_USAGE, "the batch file must hold a JSON list of objects")
    entries, worst = run_jobs(jobs, args, package)
    succeeded = sum("actions" in e for e in entries)
    if args.save and succeeded:
        bpy.ops.wm.save_as_mainfile(filepath=str(Path(args.save).resolve()))
    report = json.dumps({"saved": args.save if succeeded else None, "jobs": entries}, indent=1)
    if args.report:
        Path(args.report).write_text(report)
    else:
        print(report)
    if worst and succeeded and len(jobs) > 1:
        return EXIT_PARTIAL
    return worst


if __name__ == "__main__":
    code = main()
    import bpy

    if not bpy.app.binary_path:  # bpy as a Python module: 4.5 can hang in its exit handlers
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(code)
    if code:  # make Blender itself exit with the code
        sys.exit(code)

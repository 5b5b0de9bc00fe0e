"""Build the installable extension: ``python build.py extension [--out dist]``.

The zip holds the add-on package, the ONNX model (and its safetensors for the optional
torch runtime) and onnxruntime wheels for every platform and Python Blender 4.2-5.2 ship
(3.11 and 3.13), so users install nothing by hand.  Wheels are pinned by file name and
sha256 in ``requirements/extension-wheels.txt``.  Blender's own extension tool builds one
zip per platform (``--split-platforms``) and validates each.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "blender_lipsync"
MODEL = ROOT / "models" / "lipsync"
MODEL_FILES = ("config.json", "encoder.onnx", "decoder.onnx", "model.safetensors")
WHEEL_LIST = ROOT / "requirements" / "extension-wheels.txt"
WHEEL_CACHE = ROOT / ".cache" / "wheels"
PLATFORM_OF_WHEEL_TAG = {
    "win_amd64": "windows-x64",
    "macosx_14_0_arm64": "macos-arm64",
    "manylinux_2_28_x86_64": "linux-x64",
}


def pinned_wheels() -> list[tuple[str, str]]:
    """(file name, sha256) pairs from the pin list."""
    rows = []
    for line in WHEEL_LIST.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, digest = line.split()
            rows.append((name, digest))
    return rows


def fetch_wheel(name: str, digest: str) -> Path:
    """The wheel from the cache, else downloaded from PyPI for its own platform tag; hash checked."""
    path = WHEEL_CACHE / name
    if not path.is_file():
        WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
        project, version, *_, python, abi, platform = name[: -len(".whl")].split("-")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(WHEEL_CACHE),
            f"{project.replace('_', '-')}=={version}",
        ]
        if platform == "any":  # ask for the pure wheel: pip would pick this machine's binary one
            cmd += ["--platform", "any", "--python-version", "3.11"]
        else:
            cmd += ["--platform", platform, "--python-version", python[2:], "--implementation", "cp"]
            cmd += ["--abi", abi]
        subprocess.run(cmd, check=True)
        if not path.is_file():
            sys.exit(f"pip did not fetch {name} (pin list and PyPI disagree on its file name)")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != digest:
        path.unlink()
        sys.exit(f"{name}: sha256 {actual} does not match the pin {digest}")
    return path


def platforms(wheels: list[str]) -> list[str]:
    tags = {name[: -len(".whl")].split("-")[-1] for name in wheels}
    return sorted(PLATFORM_OF_WHEEL_TAG[t] for t in tags if t in PLATFORM_OF_WHEEL_TAG)


def stage(out: Path) -> Path:
    """A source folder for Blender's build tool: package + model + wheels + full manifest."""
    src = out / "stage" / "blender_lipsync"
    if src.parent.exists():
        shutil.rmtree(src.parent)
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    missing = [f for f in MODEL_FILES if not (MODEL / f).is_file()]
    if missing:
        sys.exit(f"models/lipsync lacks {', '.join(missing)}: train and export the model first")
    (src / "model").mkdir()
    for name in MODEL_FILES:
        shutil.copy2(MODEL / name, src / "model" / name)
    (src / "wheels").mkdir()
    wheels = [fetch_wheel(name, digest) for name, digest in pinned_wheels()]
    for wheel in wheels:
        shutil.copy2(wheel, src / "wheels" / wheel.name)
    manifest = (src / "blender_manifest.toml").read_text()
    listed = ",\n".join(f'  "./wheels/{w.name}"' for w in wheels)
    extra = f"\nplatforms = {platforms([w.name for w in wheels])!r}\nwheels = [\n{listed},\n]\n"
    first_table = manifest.index("\n[")  # top-level keys must come before the first [table]
    manifest = manifest[:first_table] + "\n" + extra.replace("'", '"') + manifest[first_table:]
    (src / "blender_manifest.toml").write_text(manifest)
    return src


def blender_ext_tool() -> Path:
    """Blender's stdlib-only extension CLI: from the bpy of this interpreter when it has one (the
    Blender test environments), else from the bpy 5.2 environment (``build.py extension``)."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    here = [Path(spec.origin).parent] if spec and spec.origin else []
    pattern = "*/scripts/addons_core/bl_pkg/cli/blender_ext.py"
    found = [p for base in here for p in sorted(base.glob(pattern))]
    found += sorted((ROOT / ".venv" / "blender52").glob(f"lib/python3.*/site-packages/bpy/{pattern}"))
    if not found:
        sys.exit("blender_ext.py not found: run `python build.py extension` (it sets up bpy 5.2)")
    return found[0]


def build(out: Path) -> list[Path]:
    src = stage(out)
    tool = blender_ext_tool()
    for old in out.glob("blender_lipsync-*.zip"):
        old.unlink()
    subprocess.run(
        [
            sys.executable,
            str(tool),
            "build",
            "--source-dir",
            str(src),
            "--output-dir",
            str(out),
            "--split-platforms",
        ],
        check=True,
    )
    zips = sorted(out.glob("blender_lipsync-*.zip"))
    for path in zips:
        subprocess.run([sys.executable, str(tool), "validate", str(path)], check=True)
    shutil.rmtree(src.parent)
    return zips


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="build.py extension", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "dist")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in build(args.out):
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{path.stat().st_size / 1e6:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

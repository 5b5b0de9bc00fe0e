#!/usr/bin/env python3
"""The project's one entry point: ``python build.py <command> [args]``.

Every command first makes sure its environment exists (Debian packages, a pinned
virtual environment built from ``requirements/*.lock``), so a fresh machine needs
nothing but Python and this file.

Commands:
  setup            install system packages and the pinned Python 3.11 environment
  test [pytest…]   lint (ruff) and run every test, slow ones included (what CI runs); the Blender
                   tests run on bpy 4.2 (file audio only), 4.5, 5.0 (Python 3.11; 5.0 with torch), 5.2 (3.13)
  extension        build the installable extension zips (one per platform) into dist/
  lint             ruff only
  demo [args…]     lip-sync the bundled clip on a demo head in Blender: out/demo/demo.blend, rendered
                   frames (preview.png), curve plot (curves.png) and scores against the teacher
  corpus [args…]   generate the aligned speech corpus (python -m lipsync_train.corpus --help)
  eval [args…]     the quality yardstick (python -m lipsync_train.evaluation --help)
  bench [args…]    speed and memory of torch and onnxruntime inference, and Generate /
                   re-generate time inside Blender (prints figures)
  train [args…]    train the model, resumable, in the background (python -m lipsync_train.train --help)
  teacher-plots    render teacher curves for a few sentences to out/teacher (PNG)
  text             print the sentence counts per source and language
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lipsync_train.system import apt_packages, installed_versions

ROOT = Path(__file__).resolve().parent
ENVS = {
    "py311": ("3.11", ROOT / "requirements" / "py311.lock"),  # training, core tests, tools
    "blender42": ("3.11", ROOT / "requirements" / "blender42.lock"),  # bpy 4.2 LTS, legacy actions
    "blender45": ("3.11", ROOT / "requirements" / "blender45.lock"),  # bpy 4.5 LTS + onnxruntime
    "blender50": ("3.11", ROOT / "requirements" / "blender50.lock"),  # bpy 5.0 + torch
    "blender52": ("3.13", ROOT / "requirements" / "blender52.lock"),  # bpy 5.2 + onnxruntime only
}
BLENDER_TESTS = {
    "blender42": "tests/blender/test_file_audio.py",  # PyPI's bpy 4.2 has no Audaspace: no sound strips
    "blender45": "tests/blender",
    "blender50": "tests/blender",
    "blender52": "tests/blender",
}
"""Blender as a Python module (both Pythons Blender ships), and the tests each one runs."""
ENV_SIZE_GB = {"py311": 2.0, "blender42": 1.1, "blender45": 1.1, "blender50": 2.1, "blender52": 1.1}
"""Installed size of each environment (measured with du); pip needs about as much again while unpacking."""
MODULES = {
    "demo": "lipsync_train.demo",
    "corpus": "lipsync_train.corpus",
    "eval": "lipsync_train.evaluation",
    "train": "lipsync_train.train",
    "soup": "lipsync_train.soup",
    "bench": "lipsync_train.bench",
    "teacher-plots": "lipsync_train.plots",
    "text": "lipsync_train.text",
    "extension": "tools.build_extension",
}
"""Commands that run a module of the project in the pinned environment."""


def _run(cmd: list[str], **kw) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=kw.pop("cwd", ROOT), **kw)


def _check(cmd: list[str], **kw) -> None:
    code = _run(cmd, **kw)
    if code:
        sys.exit(code)


def ensure_apt() -> None:
    """Install the Debian packages in requirements/apt.txt that are missing."""
    wanted = apt_packages()
    installed = installed_versions(wanted)
    missing = [p for p in wanted if p not in installed]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(
            f"missing Debian packages: {' '.join(missing)}\n"
            f"install them with: sudo apt-get install -y {' '.join(missing)}"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _check(["apt-get", "update", "-qq"], env=env)
    _check(["apt-get", "install", "-y", "-qq", *missing], env=env)


def _find_python(version: str) -> str:
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    candidates += [sys.executable] if sys.version.startswith(version + ".") else []
    for path in candidates:
        if path and subprocess.run([path, "-c", "import venv"], capture_output=True).returncode == 0:
            return path
    sys.exit(f"Python {version} not found: install it (e.g. `pyenv install {version}`) and retry")


def ensure_env(name: str = "py311") -> Path:
    """Create or update the pinned virtual environment; returns its python."""
    version, lock = ENVS[name]
    venv = ROOT / ".venv" / name
    python = venv / "bin" / "python"
    stamp = venv / ".lock-sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    ensure_disk_space(name, venv.parent)
    if not python.exists():
        _check([_find_python(version), "-m", "venv", venv])
    _check([python, "-m", "pip", "install", "-q", "--upgrade", "pip==26.3"])
    _check([python, "-m", "pip", "install", "-q", "-r", lock])
    stamp.write_text(digest)
    return python


def ensure_disk_space(name: str, folder: Path) -> None:
    """Stop with a clear message, before pip starts, when an environment cannot fit on disk."""
    need_gb = 2 * ENV_SIZE_GB[name]
    folder.mkdir(parents=True, exist_ok=True)
    for place in {folder, Path(tempfile.gettempdir())}:
        free_gb = shutil.disk_usage(place).free / 1e9
        if free_gb < need_gb:
            sys.exit(
                f"not enough disk space for the {name} environment: {free_gb:.1f} GB free in {place}, "
                f"about {need_gb:.1f} GB needed while pip installs it; free some space and rerun"
            )


def setup() -> Path:
    ensure_apt()
    return ensure_env("py311")


def _module(python: Path, module: str, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sys.exit(_run([python, "-m", module, *args], env=env))


def test(python: Path, args: list[str], env: dict) -> int:
    """ruff, the core and training tests, then the Blender tests on each Blender version."""
    _check([python, "-m", "ruff", "check", "."], env=env)
    _check([python, "-m", "ruff", "format", "--check", "."], env=env)
    failed = _run([python, "-m", "pytest", "-n", "2", "--dist", "loadfile", *args], env=env)
    for name, tests in BLENDER_TESTS.items():
        blender_python = ensure_env(name)
        pytest = [blender_python, "-m", "pytest", "-n", "2", "--dist", "loadfile", tests]
        # Blender's test processes leave their session folders (blender_XXXXXX) behind: give
        # each suite a temp folder of its own, removed when it ends.
        with tempfile.TemporaryDirectory(prefix=f"lipsync-{name}-") as scratch:
            failed |= _run([*pytest, *args], env=dict(env, TMPDIR=scratch))
    return failed


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return
    command, args = argv[0], argv[1:]
    python = setup()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if command == "setup":
        print(f"ready: {python}")
    elif command == "lint":
        sys.exit(_run([python, "-m", "ruff", "check", "."], env=env))
    elif command == "test":
        sys.exit(test(python, args, env))
    elif command == "demo":  # Blender scene + renders, then the plots and the scores on the clip
        _check([ensure_env("blender52"), ROOT / "tools" / "demo_scene.py", *args], env=env)
        _check([python, ROOT / "tools" / "demo_report.py"], env=env)
        sys.exit(_run([python, "-m", MODULES["demo"]], env=env))
    elif command == "extension":  # Blender's extension tool comes with the bpy 5.2 environment
        ensure_env("blender52")
        sys.exit(_run([python, "-m", MODULES["extension"], *args], env=env))
    elif command == "bench":  # the core runtimes, then Generate / re-generate inside Blender
        _check([python, "-m", MODULES["bench"], *args], env=env)
        sys.exit(_run([ensure_env("blender52"), ROOT / "tools" / "bench_blender.py"], env=env))
    elif command in MODULES:
        _module(python, MODULES[command], args)
    else:
        sys.exit(f"unknown command {command!r}; see `python build.py --help`")


if __name__ == "__main__":
    main(sys.argv[1:])

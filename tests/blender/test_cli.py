"""The headless command (blender -b ... --python cli.py -- ...): results, JSON report, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import bpy
import pytest

from blender_lipsync.blender import compat
from blender_lipsync.blender.bake import GENERATED_TAG
from tests.blender.helpers import DEMO_WAV, ROOT, make_face

CLI = ROOT / "blender_lipsync" / "cli.py"


@pytest.fixture
def shot(scene, tmp_path):
    """A saved .blend with a face and a sound strip, as a pipeline would hand it over."""
    make_face("Face")
    compat.new_sound_strip(scene, "Dialog", str(DEMO_WAV), channel=1, frame_start=12)
    path = tmp_path / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def run_cli(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """As Blender runs it: the script's own arguments after "--" (bpy module: --blend opens the file)."""
    cmd = [sys.executable, str(CLI), "--", *map(str, args)]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, **(env or {})}
    )


def _generated(path) -> list[str]:
    bpy.ops.wm.open_mainfile(filepath=str(path))
    return sorted(a.name for a in bpy.data.actions if a.get(GENERATED_TAG))


def test_strip_to_saved_blend_with_report(shot, tmp_path) -> None:
    out, report = tmp_path / "out.blend", tmp_path / "report.json"
    done = run_cli(
        "--blend",
        shot,
        "--object",
        "Face",
        "--strip",
        "Dialog",
        "--look",
        "cartoon",
        "--style",
        "jaw=1.2",
        "--save",
        out,
        "--report",
        report,
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(report.read_text())["jobs"][0]
    (action,) = entry["actions"]
    assert action["first_frame"] == 12 and action["keys"] > 0 and action["shape_keys"] == 29
    assert _generated(out) == [action["action"]]


def test_batch_runs_every_job_and_reports_failures(shot, tmp_path) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(
        json.dumps(
            [
                {"object": "Face", "audio": str(DEMO_WAV), "start_frame": 200, "keys": "stepped"},
                {"object": "Face", "audio": str(tmp_path / "missing.wav")},
                {"object": "Face", "strip": "Dialog", "nla": True},
            ]
        )
    )
    out, report = tmp_path / "out.blend", tmp_path / "report.json"
    done = run_cli("--blend", shot, "--batch", jobs, "--save", out, "--report", report)
    assert done.returncode == 5, done.stderr  # partial: two saved, one failed
    entries = json.loads(report.read_text())["jobs"]
    assert ["actions" in e for e in entries] == [True, False, True]
    assert "not found" in entries[1]["error"]
    assert len(_generated(out)) == 2


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--object", "Nobody", "--strip", "Dialog"], 3, "no object called"),
        (["--object", "Face", "--strip", "Other"], 3, "no sound strip called"),
        (["--object", "Face", "--audio", "/nonexistent/vo.wav"], 3, "not found"),
        (["--object", "Face", "--strip", "Dialog", "--style", "jaw=9"], 3, "outside"),
        (["--object", "Face", "--strip", "Dialog", "--keys", "sometimes"], 2, "bad arguments"),
        (["--object", "Face", "--strip", "Dialog", "--preset", "nonsense"], 3, "unknown rig preset"),
    ],
)
def test_exit_codes_and_nothing_saved_on_error(shot, tmp_path, args, code, message) -> None:
    out = tmp_path / "out.blend"
    done = run_cli("--blend", shot, *args, "--save", out)
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_missing_model_exits_4(shot, tmp_path) -> None:
    out = tmp_path / "out.blend"
    done = run_cli(
        "--blend",
        shot,
        "--object",
        "Face",
        "--strip",
        "Dialog",
        "--save",
        out,
        env={"BLENDER_LIPSYNC_MODEL": str(tmp_path / "no-model")},
    )
    assert done.returncode == 4 and "no lip-sync model" in done.stderr
    assert not out.exists()

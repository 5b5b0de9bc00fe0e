"""The built extension zip installs with Blender's own tooling and lip-syncs headless,
running on the onnxruntime wheel it bundles (not on anything of this environment)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile

import bpy
import pytest

from tests.blender.helpers import DEMO_WAV, ROOT

pytestmark = pytest.mark.slow

ZIP_PLATFORMS = {"linux": "linux_x64", "darwin": "macos_arm64", "win32": "windows_x64"}
PLATFORM = ZIP_PLATFORMS[sys.platform]

INSTALL_AND_RUN = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, json, os, sys

    class OnlyBundledOnnxruntime(importlib.abc.MetaPathFinder):
        # onnxruntime may come only from the extension's own site-packages
        def find_spec(self, name, path=None, target=None):
            if name != "onnxruntime":
                return None
            bundled = [p for p in sys.path if os.sep + "extensions" + os.sep in p]
            spec = importlib.machinery.PathFinder.find_spec(name, bundled)
            if spec is None:
                raise ModuleNotFoundError("onnxruntime is not bundled with the extension")
            return spec

    sys.meta_path.insert(0, OnlyBundledOnnxruntime())
    import bpy

    zip_path, wav = sys.argv[1], sys.argv[2]
    assert bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=True) == {"FINISHED"}
    scene = bpy.context.scene
    mesh = bpy.data.meshes.new("Face")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("Face", mesh)
    scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    for name in ("jawOpen", "mouthClose", "mouthFunnel", "mouthPressLeft", "mouthPressRight"):
        obj.shape_key_add(name=name)
    bpy.context.view_layer.objects.active = obj
    sed = scene.sequence_editor_create()
    strips = sed.strips if hasattr(sed, "strips") else sed.sequences
    strips.new_sound(name="Line", filepath=wav, channel=1, frame_start=1)
    scene.lipsync.strip = "Line"
    assert bpy.ops.lipsync.generate() == {"FINISHED"}
    import onnxruntime
    action = obj.data.shape_keys.animation_data.action
    print("RESULT " + json.dumps({"action": action.name, "onnxruntime": onnxruntime.__file__,
                                  "addon": [m for m in sys.modules if m.endswith("blender_lipsync")]}))
    """
)


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory) -> str:
    from tools import build_extension

    out = tmp_path_factory.mktemp("dist")
    zips = {p.name: p for p in build_extension.build(out)}
    assert set(zips) == {f"blender_lipsync-0.1.0-{p}.zip" for p in ZIP_PLATFORMS.values()}
    for path in zips.values():  # every platform zip carries its onnxruntime wheels for both Pythons
        names = zipfile.ZipFile(path).namelist()
        ort = [n for n in names if "/onnxruntime-" in n or n.startswith("wheels/onnxruntime-")]
        assert {"cp311", "cp313"} <= {n.split("-")[2] for n in ort}, names
        assert any(n.endswith("model/encoder.onnx") for n in names)
    return str(zips[f"blender_lipsync-0.1.0-{PLATFORM}.zip"])


def test_installed_zip_registers_and_generates_headless(extension_zip, tmp_path) -> None:
    script = tmp_path / "install_and_run.py"
    script.write_text(INSTALL_AND_RUN)
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}  # a sandboxed user config
    done = subprocess.run(
        [sys.executable, str(script), extension_zip, str(DEMO_WAV)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line[len("RESULT ") :])
    assert result["action"].startswith("Line")
    assert f"{bpy.app.version[0]}.{bpy.app.version[1]}" in result["onnxruntime"]
    assert "extensions" in result["onnxruntime"] and str(ROOT) not in result["onnxruntime"]
    assert result["addon"] == ["bl_ext.user_default.blender_lipsync"]

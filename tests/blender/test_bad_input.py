"""Bad input gets a clear message and changes nothing in the .blend (DESIGN.md section 8)."""

from __future__ import annotations

import wave

import bpy
import numpy as np
import pytest

from blender_lipsync.blender import api, compat, engine
from tests.blender.helpers import DEMO_WAV, make_face, snapshot


def _write_wav(path, samples: np.ndarray, rate: int = 16000) -> str:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return str(path)


def _fails_without_change(match: str, obj, **options) -> None:
    """Both the API and the operator refuse, with the message, and leave everything as it was."""
    before = snapshot()
    with pytest.raises(api.LipSyncError, match=match):
        api.generate(obj, **options)
    assert snapshot() == before


def _operator_fails_without_change(match: str) -> None:
    before = snapshot()
    with pytest.raises(RuntimeError, match=match):  # bpy.ops turns the ERROR report into RuntimeError
        bpy.ops.lipsync.generate()
    assert snapshot() == before


@pytest.fixture
def animated_face(face):
    """A face that already has the animator's own keys: they must survive every failure."""
    block = face.data.shape_keys.key_blocks["jawOpen"]
    block.value = 0.4
    block.keyframe_insert("value", frame=3)
    return face


def test_missing_audio_file(animated_face, tmp_path) -> None:
    _fails_without_change("not found", animated_face, audio=str(tmp_path / "nope.wav"))


def test_corrupt_audio_file(animated_face, tmp_path) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    _fails_without_change("cannot read|holds no audio", animated_face, audio=str(bad))


def test_silent_audio(animated_face, tmp_path) -> None:
    _fails_without_change("silent", animated_face, audio=_write_wav(tmp_path / "quiet.wav", np.zeros(16000)))


def test_empty_audio(animated_face, tmp_path) -> None:
    _fails_without_change(
        "no audio|cannot read", animated_face, audio=_write_wav(tmp_path / "e.wav", np.zeros(0))
    )


def test_mesh_without_shape_keys(scene) -> None:
    mesh = bpy.data.meshes.new("Plain")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new("Plain", mesh)
    scene.collection.objects.link(obj)
    _fails_without_change("no shape keys", obj, audio=str(DEMO_WAV))


def test_not_a_mesh(scene) -> None:
    empty = bpy.data.objects.new("Empty", None)
    scene.collection.objects.link(empty)
    _fails_without_change("not a mesh", empty, audio=str(DEMO_WAV))


def test_no_matching_shape_keys(scene) -> None:
    obj = make_face("Odd", ("Smile_big", "Blink", "Angry"))
    _fails_without_change("matches the mapping", obj, audio=str(DEMO_WAV))


def test_muted_strip(animated_face, strip) -> None:
    strip.mute = True
    _fails_without_change("muted", animated_face, strip="Dialog")
    bpy.context.scene.lipsync.strip = "Dialog"
    _operator_fails_without_change("muted")


def test_unknown_strip_and_no_strips(animated_face, scene) -> None:
    _fails_without_change("no sound strips", animated_face, strip="Dialog")
    compat.new_sound_strip(scene, "Dialog", str(DEMO_WAV), channel=1, frame_start=1)
    _fails_without_change("no sound strip called", animated_face, strip="Other")


def test_missing_model(animated_face, strip, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engine, "MODEL_DIRS", (tmp_path / "missing",))
    engine.forget_engines()
    _fails_without_change("no lip-sync model", animated_face, strip="Dialog")
    engine.forget_engines()


def test_corrupt_model(animated_face, strip, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    source = engine.model_folder()
    (folder / "config.json").write_text((source / "config.json").read_text())
    (folder / "encoder.onnx").write_bytes(b"not an onnx graph")
    (folder / "decoder.onnx").write_bytes((source / "decoder.onnx").read_bytes())
    monkeypatch.setattr(engine, "MODEL_DIRS", (folder,))
    engine.forget_engines()
    _fails_without_change("cannot load the ONNX model", animated_face, strip="Dialog")
    engine.forget_engines()


def _link_face_collection(tmp_path) -> bpy.types.Collection:
    """A rig in a library file, linked into a fresh scene through a collection instance."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    rig = bpy.data.collections.new("Rig")
    bpy.context.scene.collection.children.link(rig)
    face = make_face("LinkedFace")
    bpy.context.scene.collection.objects.unlink(face)
    rig.objects.link(face)
    library = tmp_path / "rig.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(library))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    with bpy.data.libraries.load(str(library), link=True) as (_, data_to):
        data_to.collections = ["Rig"]
    return data_to.collections[0]


def test_linked_rig_without_override(tmp_path) -> None:
    rig = _link_face_collection(tmp_path)
    (obj,) = rig.objects
    bpy.context.scene.collection.objects.link(obj)
    _fails_without_change("is linked from .*Library Override", obj, audio=str(DEMO_WAV))


def _override(tmp_path) -> bpy.types.Object:
    rig = _link_face_collection(tmp_path)
    scene = bpy.context.scene
    instance = bpy.data.objects.new("RigInstance", None)
    instance.instance_type, instance.instance_collection = "COLLECTION", rig
    scene.collection.objects.link(instance)
    rig.override_hierarchy_create(scene, bpy.context.view_layer, reference=instance)
    return next(o for o in bpy.data.objects if o.name.startswith("LinkedFace") and o.override_library)


def test_overridden_object_with_linked_mesh_says_to_override_the_mesh(tmp_path) -> None:
    obj = _override(tmp_path)
    _fails_without_change("shape keys of .* are linked .* override its mesh data", obj, audio=str(DEMO_WAV))


def test_overridden_rig_gets_its_lip_sync(tmp_path) -> None:
    obj = _override(tmp_path)
    obj.data.override_create(remap_local_usages=True)
    (report,) = api.generate(obj, audio=str(DEMO_WAV))
    assert report.keys > 0 and obj.data.shape_keys.animation_data.action.name == report.action

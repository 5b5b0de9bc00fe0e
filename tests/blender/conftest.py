"""Fixtures on a real Blender (bpy from PyPI): a clean scene, a face with shape keys, a sound strip."""

import bpy
import pytest

import blender_lipsync
from blender_lipsync.blender import compat
from tests.blender.helpers import DEMO_WAV, make_face


@pytest.fixture(scope="session", autouse=True)
def registered():
    blender_lipsync.register()
    yield
    blender_lipsync.unregister()


@pytest.fixture
def scene() -> bpy.types.Scene:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    return scene


@pytest.fixture
def face(scene) -> bpy.types.Object:
    return make_face()


@pytest.fixture
def strip(scene):
    return compat.new_sound_strip(scene, "Dialog", str(DEMO_WAV), channel=1, frame_start=10)

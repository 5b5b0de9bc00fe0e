"""The demo head (tools/demo_head.py): every ARKit mouth shape key, each one moving the mouth sensibly.

Shapes are mixed by hand from the key data (basis + sum of value * offset), no depsgraph and no render.
"""

from __future__ import annotations

import bpy
import numpy as np
import pytest

from blender_lipsync.core.contract import MOUTH_CHANNELS
from tools.demo_head import build_demo_head, setup_scene


@pytest.fixture
def head(scene) -> bpy.types.Object:
    return build_demo_head()


def _co(block) -> np.ndarray:
    co = np.empty(len(block.data) * 3, np.float32)
    block.data.foreach_get("co", co)
    return co.reshape(-1, 3).astype(np.float64)


def _mix(head, **values: float) -> np.ndarray:
    """Vertex positions with the given shape-key values (the others at 0)."""
    blocks = head.data.shape_keys.key_blocks
    basis = _co(blocks["Basis"])
    return basis + sum(
        (value * (_co(blocks[name]) - basis) for name, value in values.items()), np.zeros_like(basis)
    )


def _group(head, name: str, min_weight: float = 0.0) -> np.ndarray:
    """Indices of the vertices in a vertex group (with at least ``min_weight``)."""
    index = head.vertex_groups[name].index
    return np.array(
        [
            v.index
            for v in head.data.vertices
            if any(g.group == index and g.weight >= min_weight for g in v.groups)
        ]
    )


def _lip_gap(head, **values: float) -> float:
    """Distance between the middle of the upper lip's edge and the middle of the lower lip's edge."""
    co = _mix(head, **values)
    return float(
        np.linalg.norm(co[_group(head, "lip_upper")].mean(0) - co[_group(head, "lip_lower")].mean(0))
    )


def test_head_is_one_mesh_with_every_mouth_channel(head) -> None:
    assert [o.name for o in bpy.data.objects] == ["DemoHead"] and head.type == "MESH"
    names = [kb.name for kb in head.data.shape_keys.key_blocks]
    assert names[0] == "Basis" and set(names[1:]) == set(MOUTH_CHANNELS) and len(names) == 30
    assert head.modifiers["Subdivision"].type == "SUBSURF" and head.data.materials
    assert "Col" in head.data.color_attributes


@pytest.mark.parametrize("name", MOUTH_CHANNELS)
def test_each_shape_key_moves_vertices(head, name) -> None:
    moved = np.linalg.norm(_mix(head, **{name: 1.0}) - _mix(head), axis=1)
    assert (moved > 0.01).sum() >= 10, f"{name} barely moves the mesh"
    assert moved.max() < 0.5, f"{name} tears the mesh apart"


def test_jaw_opens_the_lips_and_mouth_close_seals_them(head) -> None:
    rest = _lip_gap(head)
    assert rest < 0.03  # closed at rest: only the thin slit between the lips
    assert _lip_gap(head, jawOpen=0.6) > rest + 0.15
    assert _lip_gap(head, jawOpen=1.0) > _lip_gap(head, jawOpen=0.6) + 0.05
    for amount in (0.3, 0.6, 1.0):
        assert _lip_gap(head, jawOpen=amount, mouthClose=amount) < rest + 0.01
    # the chin still hangs down with the lips sealed
    basis = _mix(head)
    front = np.flatnonzero(basis[:, 1] < -0.5)  # the face looks at -Y
    chin = front[np.argmin(basis[front, 2])]
    assert _mix(head, jawOpen=1.0, mouthClose=1.0)[chin, 2] < basis[chin, 2] - 0.1


def test_lip_shapes_round_narrow_and_widen_the_mouth(head) -> None:
    upper, lower, lips = _group(head, "lip_upper"), _group(head, "lip_lower"), _group(head, "lips", 0.9)
    basis = _mix(head)
    width = np.ptp(basis[lips, 0])
    assert _lip_gap(head, mouthFunnel=1.0) > _lip_gap(head) + 0.1  # an open "O"
    for name in ("mouthFunnel", "mouthPucker"):
        co = _mix(head, **{name: 1.0})
        assert co[upper, 1].mean() < basis[upper, 1].mean() - 0.05  # lips forward (-Y)
        assert np.ptp(co[lips, 0]) < width - 0.05  # and narrower
    smile = _mix(head, mouthSmileLeft=1.0, mouthSmileRight=1.0)
    assert np.ptp(smile[lips, 0]) > width + 0.03
    assert _lip_gap(head, mouthPressLeft=1.0, mouthPressRight=1.0) <= _lip_gap(head)
    assert smile[lower, 2].mean() >= basis[lower, 2].mean() - 1e-6


def test_scene_setup_frames_the_face_with_cycles(head) -> None:
    scene = bpy.context.scene
    setup_scene(scene, head, size=128, samples=8)
    assert scene.camera is not None and scene.render.engine == "CYCLES" and scene.cycles.device == "CPU"
    assert (scene.render.resolution_x, scene.render.resolution_y, scene.cycles.samples) == (128, 128, 8)
    assert not scene.render.film_transparent
    assert scene.camera.location.y < -3.0 and scene.camera.location.z > 0.0  # in front, slightly above
    assert any(o.type == "LIGHT" for o in scene.objects)

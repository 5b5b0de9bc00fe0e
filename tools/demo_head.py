"""A procedural cartoon head with the 29 ARKit mouth shape keys, for the demo and the tests.

    from tools.demo_head import build_demo_head, setup_scene
    head = build_demo_head()               # one mesh object, shape keys named as MOUTH_CHANNELS
    setup_scene(bpy.context.scene, head)   # camera, lights, Cycles CPU at 256x256

The skin is one closed surface laid out in loops around the mouth: outside it is an
ellipsoid head, at the mouth the loops roll over the lips and go on inwards into a dark
mouth bag, so an open mouth reads dark.  Eyes, brows, ears, teeth and tongue are separate
pieces of the same mesh.  Colours live in a colour attribute ("Col") read by one material.

Every shape key is a smooth displacement field over the mouth frame (``lx`` to the
character's left, ``lz`` up the face, ``ly`` out of the face): jawOpen turns the lower
face about a hinge near the ears, mouthClose brings the lower lip back up by exactly what
the jaw took away, and so on (see ``channel_deltas``).  Vertex groups ``lip_upper`` and
``lip_lower`` tag the middle of each lip's edge, ``lips`` and ``jaw`` hold the weights.

Run under Blender's Python: ``python tools/demo_head.py --out out/demo/poses`` renders a
few hand-set poses (rest, jaw open, jaw open + mouthClose, funnel, ...) for a quick look.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from blender_lipsync.core.contract import MOUTH_CHANNELS  # noqa: E402

# ---------------------------------------------------------------- proportions

RADII = np.array([0.80, 0.88, 1.0])
"""Half-width, half-depth and half-height of the head ellipsoid (Z up, the face looks at -Y)."""
MOUTH_DIR = np.array([0.0, -1.0, -0.42]) / np.linalg.norm([0.0, -1.0, -0.42])
"""Direction from the head's centre to the middle of the mouth."""
MOUTH_HALF_WIDTH = 0.34
"""Half-width of the mouth on the tangent plane of a unit sphere (about 0.25 on the head)."""
SLIT = 0.006
"""Half the gap between the lips at rest: closed lips read as a thin dark line."""
LIP_DEPTH = (0.085, 0.10)
"""Height of the upper and lower lip (before the taper at the corners)."""
LIP_BULGE = 0.05
SEGMENTS = 48
OUTER_RINGS = 34
HINGE = np.array([0.0, 0.15, 0.0])
JAW_ANGLE = 0.38
"""Radians the jaw turns at jawOpen = 1 (the lower lip drops about 0.4)."""

INNER_RINGS = (
    (0.97, 0.009, 0.035),
    (0.93, 0.05, 0.09),
    (0.85, 0.17, 0.20),
    (0.70, 0.20, 0.32),
    (0.42, 0.15, 0.42),
)
"""The loops inside the lips: (width scale, half height, depth behind the lip edge)."""
BAG_DEPTH = 0.47


def srgb(r: int, g: int, b: int) -> np.ndarray:
    """Linear RGB of an 8-bit sRGB colour (colour attributes are linear)."""
    c = np.array([r, g, b]) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


SKIN = srgb(242, 196, 166)
BLUSH = srgb(238, 150, 140)
LIPS = srgb(196, 64, 78)
INNER_LIP = srgb(110, 24, 32)
CAVITY = srgb(34, 8, 10)
HAIR = srgb(74, 48, 34)
EYE_WHITE = srgb(245, 245, 240)
PUPIL = srgb(24, 20, 26)
TEETH = srgb(240, 236, 222)
TONGUE = srgb(214, 92, 102)

SKIN_PART, UPPER_TEETH, LOWER_TEETH, TONGUE_PART, EYE_PART, BROW_PART, EAR_PART = range(7)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """0 below ``edge0``, 1 above ``edge1`` (either order), a smooth cubic between."""
    t = np.clip((np.asarray(x, dtype=np.float64) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


# ---------------------------------------------------------------- geometry


@dataclass
class Piece:
    """Vertices, faces (local indices) and per-vertex colours of one part of the mesh."""

    co: np.ndarray
    faces: list[tuple[int, ...]]
    color: np.ndarray
    part: int


@dataclass
class MouthFrame:
    """Where the mouth is: its centre on the face and the face's local axes there."""

    centre: np.ndarray
    half_width: float = 0.25
    u: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))  # character's left
    v: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))  # up the face
    a: np.ndarray = field(default_factory=lambda: np.array([0.0, -1.0, 0.0]))  # out of the face

    def local(self, co: np.ndarray) -> np.ndarray:
        """(lx, lz, ly) of world positions: left, up, forward from the mouth centre."""
        d = co - self.centre
        return np.stack([d @ self.u, d @ self.v, d @ self.a], axis=1)

    def world(self, delta: np.ndarray) -> np.ndarray:
        """World offsets of local (lx, lz, ly) offsets."""
        return np.outer(delta[:, 0], self.u) + np.outer(delta[:, 1], self.v) + np.outer(delta[:, 2], self.a)


def mouth_axes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors (left, up along the face, forward) of the sphere around the mouth direction."""
    a = MOUTH_DIR
    u = np.array([1.0, 0.0, 0.0])
    v = np.cross(a, u)
    return u, v / np.linalg.norm(v), a


def ring_grid(rings: np.ndarray, segments: int) -> list[tuple[int, ...]]:
    """Quads between consecutive loops of ``segments`` vertices (loop i starts at i * segments)."""
    faces = []
    for r in range(rings - 1):
        for k in range(segments):
            k1 = (k + 1) % segments
            faces.append(
                (r * segments + k, r * segments + k1, (r + 1) * segments + k1, (r + 1) * segments + k)
            )
    return faces


def outer_directions(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions of the outer skin loops (wide slit at the mouth, round further out).

    Near the mouth the loops are ellipses in the plane tangent to the mouth direction
    (gnomonic), growing from the slit to circles; past ``theta_blend`` they are ordinary
    circles of a sphere whose pole is the mouth.  Returns (directions, polar angle per loop).
    """
    u, v, a = mouth_axes()
    theta_first, theta_blend = 0.05, 1.0
    t = np.linspace(0.0, 1.0, OUTER_RINGS) ** 1.35
    theta = theta_first + (math.pi - 0.04 - theta_first) * t
    blend = np.clip((theta - theta_first) / (theta_blend - theta_first), 0.0, 1.0)
    tan = np.tan(np.minimum(theta, theta_blend))
    wx = tan + (MOUTH_HALF_WIDTH - math.tan(theta_first)) * (1.0 - blend)
    wz = tan + (SLIT - math.tan(theta_first)) * (1.0 - blend)
    cos, sin = np.cos(phi)[None, :, None], np.sin(phi)[None, :, None]
    near = a + wx[:, None, None] * cos * u + wz[:, None, None] * sin * v
    near /= np.linalg.norm(near, axis=2, keepdims=True)
    th = theta[:, None, None]
    far = np.cos(th) * a + np.sin(th) * (cos * u + sin * v)
    dirs = np.where((theta <= theta_blend)[:, None, None], near, far)
    return dirs, theta


def head_surface(d: np.ndarray) -> np.ndarray:
    """Points of the cartoon head for unit directions ``d``: an ellipsoid, narrower at the jaw."""
    p = d * RADII
    jaw = smoothstep(-0.1, -1.0, d[..., 2])
    p[..., 0] *= 1.0 - 0.16 * jaw
    p[..., 1] *= 1.0 - 0.05 * jaw
    return p


def nose_and_lips(p: np.ndarray, frame: MouthFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Push out the nose and the lips.

    Returns the new points, the lip weight (1 on the red of the lips) and a wider lip zone
    (the lips and the skin just around them, what mouthClose carries back up).
    """
    loc = frame.local(p.reshape(-1, 3)).reshape(p.shape)
    lx, lz = loc[..., 0], loc[..., 1]
    nose = 0.11 * np.exp(-((lx / 0.075) ** 2) - ((lz - 0.31) / 0.085) ** 2)
    taper = np.sqrt(np.clip(1.0 - (lx / (frame.half_width + 0.04)) ** 2, 0.0, 1.0))
    depth = np.where(lz >= 0.0, LIP_DEPTH[0], LIP_DEPTH[1]) * np.maximum(taper, 0.05)
    q = np.clip((np.abs(lz) - SLIT) / depth, 0.0, 4.0)
    bulge = LIP_BULGE * np.sqrt(taper) * np.cos(np.minimum(q, 1.0) * math.pi / 2) ** 0.8
    corners = smoothstep(0.0, 0.25, taper)
    lip = (1.0 - smoothstep(0.8, 1.15, q)) * corners
    zone = (1.0 - smoothstep(1.0, 2.6, q)) * corners
    return p + (nose + bulge)[..., None] * frame.a, lip, zone


def skin_piece() -> tuple[Piece, MouthFrame, dict[str, np.ndarray]]:
    """The closed skin: the outer head, the lips and the mouth bag; plus per-vertex fields."""
    phi = np.arange(SEGMENTS) * 2.0 * math.pi / SEGMENTS
    dirs, theta = outer_directions(phi)
    outer = head_surface(dirs)
    frame = MouthFrame(centre=head_surface(MOUTH_DIR[None])[0])
    frame.u, frame.v, frame.a = mouth_axes()
    frame.half_width = float(np.abs(frame.local(outer[0])[:, 0]).max())
    outer, lip, zone = nose_and_lips(outer, frame)
    edge = frame.local(outer[0])
    inner = []
    for sx, half, depth in INNER_RINGS:
        loc = np.stack([edge[:, 0] * sx, half * np.sin(phi), edge[:, 2] - depth], axis=1)
        inner.append(frame.centre + frame.world(loc))
    loops = np.concatenate([np.array(inner[::-1]), outer], axis=0)  # from deep inside to the back
    n_in = len(inner)
    back = head_surface(-MOUTH_DIR[None])[0]
    bag = frame.centre + frame.a * (edge[:, 2].max() - BAG_DEPTH)
    co = np.concatenate([[bag], loops.reshape(-1, 3), [back]])
    faces = [(0, 1 + (k + 1) % SEGMENTS, 1 + k) for k in range(SEGMENTS)]
    faces += [tuple(1 + i for i in f) for f in ring_grid(len(loops), SEGMENTS)]
    last = 1 + (len(loops) - 1) * SEGMENTS
    faces += [(last + k, last + (k + 1) % SEGMENTS, len(co) - 1) for k in range(SEGMENTS)]
    ring = np.concatenate([[-n_in - 1], np.repeat(np.arange(-n_in, len(outer)), SEGMENTS), [len(outer)]])
    lip_w = np.concatenate([[0.0], np.zeros(n_in * SEGMENTS), lip.ravel(), [0.0]])
    zone_w = np.concatenate([[0.0], np.zeros(n_in * SEGMENTS), zone.ravel(), [0.0]])
    for w in (lip_w, zone_w):
        w[(ring == -1) | (ring == -2)] = 1.0
        w[ring == -3] = 0.5
    phis = np.concatenate([[0.0], np.tile(phi, len(loops)), [0.0]])
    thetas = np.concatenate([[0.0], np.zeros(n_in * SEGMENTS), np.repeat(theta, SEGMENTS), [math.pi]])
    color = skin_colors(co, ring, lip_w, frame)
    fields = {"ring": ring, "lip": lip_w, "zone": zone_w, "phi": phis, "theta": thetas}
    return Piece(co, faces, color, SKIN_PART), frame, fields


def skin_colors(co: np.ndarray, ring: np.ndarray, lip: np.ndarray, frame: MouthFrame) -> np.ndarray:
    """Skin with hair on top, blushed cheeks and red lips; dark red to black inside the mouth."""
    d = co / RADII
    hairline = 0.52 - 0.62 * (d[:, 1] + 1.0) / 2.0
    hair = smoothstep(-0.04, 0.04, d[:, 2] - hairline)
    loc = frame.local(co)
    blush = 0.55 * np.exp(-(((np.abs(loc[:, 0]) - 0.48) / 0.13) ** 2) - ((loc[:, 1] - 0.2) / 0.1) ** 2)
    color = SKIN + (BLUSH - SKIN) * blush[:, None]
    color = color + (HAIR - color) * hair[:, None]
    color = color + (LIPS - color) * lip[:, None]
    color[ring == -2] = INNER_LIP
    color[ring < -2] = CAVITY
    return color


def uv_sphere(centre, radii, segments: int = 16, rings: int = 10, color=SKIN, part: int = EYE_PART) -> Piece:
    """A closed UV sphere (ellipsoid with ``radii``) around ``centre``, poles along Z."""
    th = np.linspace(0.0, math.pi, rings + 1)[1:-1]
    ph = np.arange(segments) * 2.0 * math.pi / segments
    sin, cos = np.sin(th)[:, None], np.cos(th)[:, None]
    ring_co = np.stack(
        [sin * np.cos(ph), sin * np.sin(ph), np.broadcast_to(cos, (len(th), segments))], axis=2
    ).reshape(-1, 3)
    unit = np.concatenate([[[0.0, 0.0, 1.0]], ring_co, [[0.0, 0.0, -1.0]]])
    co = np.asarray(centre) + unit * np.asarray(radii)
    faces = [(0, 1 + k, 1 + (k + 1) % segments) for k in range(segments)]
    faces += [tuple(1 + i for i in f) for f in ring_grid(len(th), segments)]
    last = 1 + (len(th) - 1) * segments
    faces += [(last + (k + 1) % segments, last + k, len(co) - 1) for k in range(segments)]
    return Piece(co, faces, np.tile(color, (len(co), 1)), part)


def bent_bar(frame: MouthFrame, lz: tuple[float, float], ly: float, width: float, part: int) -> Piece:
    """A row of teeth: a slab curving back along the mouth, from ``lz[0]`` to ``lz[1]`` high."""
    xs = np.linspace(-width, width, 13)
    section = [(lz[0], 0.0), (lz[1], 0.0), (lz[1], -0.03), (lz[0], -0.03)]
    loc = np.array([(x, z, ly + dy - 0.9 * x * x) for x in xs for z, dy in section])
    co = frame.centre + frame.world(loc)
    faces = [
        (s * 4 + c, s * 4 + (c + 1) % 4, (s + 1) * 4 + (c + 1) % 4, (s + 1) * 4 + c)
        for s in range(len(xs) - 1)
        for c in range(4)
    ]
    faces += [(0, 3, 2, 1), tuple((len(xs) - 1) * 4 + k for k in range(4))]
    return Piece(co, faces, np.tile(TEETH, (len(co), 1)), part)


def face_pieces(frame: MouthFrame) -> list[Piece]:
    """Eyes (white, pupil, highlight), brows, ears, teeth and tongue."""
    pieces = []
    for side in (-1.0, 1.0):
        d = np.array([0.36 * side, -1.0, 0.32])
        d /= np.linalg.norm(d)
        eye = head_surface(d[None])[0] - 0.06 * d
        look = np.array([0.0, -6.0, 0.9]) - eye
        look /= np.linalg.norm(look)
        pieces.append(uv_sphere(eye, (0.135, 0.12, 0.15), 20, 12, EYE_WHITE))
        pupil = eye + 0.108 * look + np.array([-0.012 * side, 0.0, -0.005])
        pieces.append(uv_sphere(pupil, (0.062, 0.03, 0.072), 16, 8, PUPIL))
        spark = pupil + 0.03 * look + np.array([0.022, 0.0, 0.03])
        pieces.append(uv_sphere(spark, (0.018, 0.012, 0.018), 8, 6, EYE_WHITE))
        brow = head_surface(np.array([[0.34 * side, -1.0, 0.62]]) / np.linalg.norm([0.34, -1.0, 0.62]))[0]
        pieces.append(
            uv_sphere(brow + np.array([0.0, -0.02, 0.0]), (0.14, 0.035, 0.03), 14, 6, HAIR, BROW_PART)
        )
        pieces.append(uv_sphere((0.79 * side, 0.06, 0.02), (0.07, 0.13, 0.19), 12, 8, SKIN, EAR_PART))
    pieces.append(bent_bar(frame, (-0.002, 0.075), -0.055, 0.21, UPPER_TEETH))
    pieces.append(bent_bar(frame, (-0.075, -0.012), -0.075, 0.19, LOWER_TEETH))
    tongue = frame.centre + frame.world(np.array([[0.0, -0.085, -0.2]]))[0]
    pieces.append(uv_sphere(tongue, (0.17, 0.15, 0.05), 16, 8, TONGUE, TONGUE_PART))
    return pieces


# ---------------------------------------------------------------- shape keys


@dataclass
class Rig:
    """Per-vertex fields the shape keys are computed from (all in the mouth frame)."""

    co: np.ndarray
    frame: MouthFrame
    part: np.ndarray
    ring: np.ndarray
    lip: np.ndarray
    zone: np.ndarray
    phi: np.ndarray
    theta: np.ndarray

    @property
    def loc(self) -> np.ndarray:
        return self.frame.local(self.co)

    @property
    def skin(self) -> np.ndarray:
        return (self.part == SKIN_PART).astype(float)

    @property
    def lower(self) -> np.ndarray:
        """1 below the lip line (lower lip, chin, mouth floor, lower teeth, tongue), 0 above."""
        w = smoothstep(0.3, -0.3, np.sin(self.phi)) * self.skin
        w[self.part == LOWER_TEETH] = 1.0
        w[self.part == TONGUE_PART] = 1.0
        w[(self.ring < -len(INNER_RINGS))] = 0.5
        return w

    @property
    def jaw(self) -> np.ndarray:
        """How much each vertex follows the jaw: the lower face, fading towards the back of the head.

        The skin at the mouth corners follows less (the cheeks hold it), so the mouth opens
        as an oval rather than a box.
        """
        lx, lz, _ = self.loc.T
        hw = self.frame.half_width
        pin = smoothstep(0.3 * hw, 1.15 * hw, np.abs(lx)) * np.exp(-((lz / 0.16) ** 2)) * self.skin
        back = np.where(self.part == SKIN_PART, 1.0 - smoothstep(1.3, 2.4, self.theta), 1.0)
        return self.lower * back * (1.0 - 0.6 * pin)

    def lips(self, side: float = 0.0) -> np.ndarray:
        """The lip weight, on the upper (side=+1), lower (-1) or both (0) lips."""
        if side == 0.0:
            return self.lip
        return self.lip * (1.0 - self.lower if side > 0 else self.lower)

    def near(self) -> np.ndarray:
        """The mouth and the skin around it (weights for moving the mouth as a whole)."""
        lx, lz, _ = self.loc.T
        r = np.hypot(lx / (self.frame.half_width + 0.12), lz / 0.24)
        inside = self.ring < 0
        return np.where(inside, smoothstep(-6.0, -3.0, self.ring), 1.0 - smoothstep(0.7, 1.6, r)) * self.skin

    def corner(self, side: float, spread: float = 1.0) -> np.ndarray:
        """A soft blob around one mouth corner (side +1: the character's left, at +X)."""
        lx, lz, _ = self.loc.T
        dist = ((lx - side * self.frame.half_width) / (0.17 * spread)) ** 2 + (lz / (0.13 * spread)) ** 2
        return np.exp(-dist) * self.near()

    def half(self, side: float) -> np.ndarray:
        """The character's left (+1) or right (-1) half of the mouth, blending across the middle."""
        edge = 0.45 * self.frame.half_width
        return smoothstep(-edge, edge, side * self.loc[:, 0])

    def offset(self, weight: np.ndarray, lx: float = 0.0, lz: float = 0.0, ly: float = 0.0) -> np.ndarray:
        """World offsets: ``weight`` times one local (left, up, forward) offset."""
        return weight[:, None] * self.frame.world(np.array([[lx, lz, ly]]))

    def jaw_turn(self, weight: np.ndarray, angle: float) -> np.ndarray:
        """Offsets that turn each vertex about the jaw hinge (X axis) by ``weight * angle``."""
        b = weight * angle
        rel = self.co - HINGE
        y = rel[:, 1] * np.cos(b) - rel[:, 2] * np.sin(b)
        z = rel[:, 1] * np.sin(b) + rel[:, 2] * np.cos(b)
        return np.stack([np.zeros_like(y), y - rel[:, 1], z - rel[:, 2]], axis=1)

    def outward(self, weight: np.ndarray, amount: float) -> np.ndarray:
        """Offsets along the head ellipsoid's normal."""
        n = self.co / RADII**2
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        return amount * weight[:, None] * n


def sided(fn: Callable[[Rig, float], np.ndarray]) -> tuple[Callable[[Rig], np.ndarray], ...]:
    """The left and right versions of a one-sided shape (left = +X = +1)."""
    return (lambda rig: fn(rig, 1.0)), (lambda rig: fn(rig, -1.0))


def smile(rig: Rig, side: float) -> np.ndarray:
    lx, lz, _ = rig.loc.T
    cheek = np.exp(-(((side * lx - 0.42) / 0.15) ** 2) - ((lz - 0.17) / 0.12) ** 2) * rig.near()
    return rig.offset(rig.corner(side), 0.045 * side, 0.075, -0.03) + rig.offset(cheek, 0.0, 0.035, 0.03)


def frown(rig: Rig, side: float) -> np.ndarray:
    return rig.offset(rig.corner(side), 0.02 * side, -0.07, -0.01)


def dimple(rig: Rig, side: float) -> np.ndarray:
    return rig.offset(rig.corner(side), 0.035 * side, 0.005, -0.06)


def stretch(rig: Rig, side: float) -> np.ndarray:
    return rig.offset(rig.corner(side, 1.4), 0.075 * side, -0.03, -0.025)


def press(rig: Rig, side: float) -> np.ndarray:
    lz = rig.loc[:, 1]
    w = rig.lips() * rig.half(side) * (rig.ring >= 0)
    return rig.offset(w * lz, 0.0, -0.4, 0.0) + rig.offset(w, 0.0, 0.0, -0.012)


def lower_down(rig: Rig, side: float) -> np.ndarray:
    return rig.offset(rig.lips(-1) * rig.half(side), 0.0, -0.08, 0.01)


def upper_up(rig: Rig, side: float) -> np.ndarray:
    return rig.offset(rig.lips(+1) * rig.half(side), 0.0, 0.07, 0.01)


def jaw_open(rig: Rig) -> np.ndarray:
    return rig.jaw_turn(rig.jaw, JAW_ANGLE)


def mouth_close(rig: Rig) -> np.ndarray:
    """Exactly undoes jawOpen on the lips, so jawOpen = mouthClose keeps them sealed."""
    return -jaw_open(rig) * rig.zone[:, None]


def funnel(rig: Rig) -> np.ndarray:
    lx = rig.loc[:, 0]
    w = rig.lips()
    round_open = np.sin(rig.phi) * w * (rig.ring >= -2)
    return rig.offset(w * lx, -0.3) + rig.offset(round_open, 0.0, 0.075) + rig.offset(w, ly=0.07)


def pucker(rig: Rig) -> np.ndarray:
    lx = rig.loc[:, 0]
    w = rig.lips()
    return rig.offset(w * lx, -0.45) + rig.offset(w, ly=0.1) + rig.offset(w * np.sin(rig.phi), lz=0.012)


def cheek_puff(rig: Rig) -> np.ndarray:
    lx, lz, _ = rig.loc.T
    cheeks = np.exp(-(((np.abs(lx) - 0.45) / 0.17) ** 2) - ((lz - 0.03) / 0.17) ** 2) * rig.skin
    return rig.outward(cheeks * (rig.ring >= 0), 0.075)


def tongue_out(rig: Rig) -> np.ndarray:
    tongue = (rig.part == TONGUE_PART).astype(float)
    return rig.offset(tongue, 0.0, -0.03, 0.26) + rig.offset(rig.lips(-1), 0.0, -0.035)


SHAPES: dict[str, Callable[[Rig], np.ndarray]] = {
    "jawOpen": jaw_open,
    "jawForward": lambda rig: rig.offset(rig.jaw, ly=0.07),
    "jawLeft": lambda rig: rig.offset(rig.jaw, 0.08),
    "jawRight": lambda rig: rig.offset(rig.jaw, -0.08),
    "mouthClose": mouth_close,
    "mouthFunnel": funnel,
    "mouthPucker": pucker,
    "mouthLeft": lambda rig: rig.offset(rig.near(), 0.08),
    "mouthRight": lambda rig: rig.offset(rig.near(), -0.08),
    "mouthRollLower": lambda rig: rig.offset(rig.lips(-1) * (rig.ring >= -1), 0.0, 0.03, -0.05),
    "mouthRollUpper": lambda rig: rig.offset(rig.lips(+1) * (rig.ring >= -1), 0.0, -0.025, -0.05),
    "mouthShrugLower": lambda rig: rig.offset(rig.near() * rig.lower, 0.0, 0.05, 0.02),
    "mouthShrugUpper": lambda rig: rig.offset(rig.lips(+1), 0.0, 0.04, 0.02),
    "cheekPuff": cheek_puff,
    "tongueOut": tongue_out,
}
for _name, _fn in (
    ("Smile", smile),
    ("Frown", frown),
    ("Dimple", dimple),
    ("Stretch", stretch),
    ("Press", press),
    ("LowerDown", lower_down),
    ("UpperUp", upper_up),
):
    SHAPES[f"mouth{_name}Left"], SHAPES[f"mouth{_name}Right"] = sided(_fn)


def channel_deltas(rig: Rig) -> dict[str, np.ndarray]:
    """World offsets per vertex for every ARKit mouth channel, in MOUTH_CHANNELS order."""
    return {name: SHAPES[name](rig) for name in MOUTH_CHANNELS}


# ---------------------------------------------------------------- Blender objects


def assemble() -> tuple[list[Piece], Rig]:
    """All pieces of the head and the rig fields over their concatenated vertices."""
    skin, frame, fields = skin_piece()
    pieces = [skin, *face_pieces(frame)]
    co = np.concatenate([p.co for p in pieces])
    extra = len(co) - len(skin.co)
    part = np.concatenate([np.full(len(p.co), p.part) for p in pieces])
    pad = {"ring": 99, "lip": 0.0, "zone": 0.0, "phi": -math.pi / 2, "theta": 0.0}
    rig = Rig(co, frame, part, **{k: np.concatenate([v, np.full(extra, pad[k])]) for k, v in fields.items()})
    return pieces, rig


def make_mesh(name: str, pieces: list[Piece]) -> bpy.types.Mesh:
    """One mesh of all pieces: faces, outward normals, smooth shading and the "Col" colours."""
    import bmesh  # importable only once bpy is loaded

    co, faces, offset = [], [], 0
    for piece in pieces:
        co.append(piece.co)
        faces += [tuple(offset + i for i in f) for f in piece.faces]
        offset += len(piece.co)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(np.concatenate(co).tolist(), [], faces)
    bm = bmesh.new()
    bm.from_mesh(mesh)
    bmesh.ops.recalc_face_normals(bm, faces=bm.faces)
    bm.to_mesh(mesh)
    bm.free()
    mesh.shade_smooth()
    colors = np.concatenate([p.color for p in pieces])
    rgba = np.concatenate([colors, np.ones((len(colors), 1))], axis=1).astype(np.float32)
    attr = mesh.color_attributes.new("Col", "FLOAT_COLOR", "POINT")
    attr.data.foreach_set("color", rgba.ravel())
    mesh.materials.append(head_material())
    return mesh


def head_material() -> bpy.types.Material:
    """A Principled BSDF whose base colour is the mesh's "Col" attribute."""
    mat = bpy.data.materials.new("DemoHead")
    if mat.node_tree is None:  # Blender < 5.0 makes materials without nodes
        mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes.get("Principled BSDF")
    attr = nodes.new("ShaderNodeAttribute")
    attr.attribute_name = "Col"
    links.new(attr.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.5
    return mat


def add_shape_keys(obj: bpy.types.Object, rig: Rig) -> None:
    """Basis plus one shape key per MOUTH_CHANNELS name."""
    obj.shape_key_add(name="Basis", from_mix=False)
    for name, delta in channel_deltas(rig).items():
        block = obj.shape_key_add(name=name, from_mix=False)
        block.data.foreach_set("co", (rig.co + delta).astype(np.float32).ravel())
    obj.data.shape_keys.name = obj.name


def add_vertex_groups(obj: bpy.types.Object, rig: Rig) -> None:
    """``lip_upper``/``lip_lower``: middle of each lip edge; ``lips`` and ``jaw``: the rig weights."""
    edge = (rig.ring == 0) & (rig.part == SKIN_PART)
    sin = np.sin(rig.phi)
    tags = {"lip_upper": edge & (sin > 0.98), "lip_lower": edge & (sin < -0.98)}
    for name, mask in tags.items():
        obj.vertex_groups.new(name=name).add(np.flatnonzero(mask).tolist(), 1.0, "REPLACE")
    for name, weight in (("lips", rig.lip), ("jaw", rig.jaw)):
        group = obj.vertex_groups.new(name=name)
        for value in np.unique(np.round(weight[weight > 0.01], 2)):
            idx = np.flatnonzero(np.abs(weight - value) < 0.005)
            group.add(idx.tolist(), float(value), "REPLACE")


def build_demo_head(name: str = "DemoHead") -> bpy.types.Object:
    """Create the cartoon head (one mesh object, 29 ARKit shape keys) in the active scene."""
    pieces, rig = assemble()
    obj = bpy.data.objects.new(name, make_mesh(name, pieces))
    bpy.context.scene.collection.objects.link(obj)
    add_shape_keys(obj, rig)
    add_vertex_groups(obj, rig)
    subsurf = obj.modifiers.new("Subdivision", "SUBSURF")
    subsurf.levels, subsurf.render_levels = 1, 2
    bpy.context.view_layer.objects.active = obj
    return obj


# ---------------------------------------------------------------- scene


def look_at(obj: bpy.types.Object, target: tuple[float, float, float]) -> None:
    """Point a camera or light's -Z axis at ``target``."""
    from mathutils import Vector

    direction = Vector(target) - obj.location
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()


def add_light(scene: bpy.types.Scene, name: str, kind: str, location, energy: float, size: float) -> None:
    light = bpy.data.lights.new(name, kind)
    light.energy = energy
    light.angle = size if kind == "SUN" else light.angle
    obj = bpy.data.objects.new(name, light)
    obj.location = location
    scene.collection.objects.link(obj)
    look_at(obj, (0.0, 0.0, 0.0))


def setup_scene(scene: bpy.types.Scene, head: bpy.types.Object, size: int = 256, samples: int = 16) -> None:
    """Camera on the face (from slightly above), key and fill suns, grey world, Cycles CPU."""
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.data.lens = 92.0
    cam.location = (0.0, -6.4, 0.9)
    scene.collection.objects.link(cam)
    look_at(cam, (0.0, 0.0, -0.05))
    scene.camera = cam
    add_light(scene, "Key", "SUN", (-3.0, -4.0, 4.0), 3.2, 0.3)
    add_light(scene, "Fill", "SUN", (4.0, -3.0, 0.5), 0.9, 0.5)
    world = scene.world or bpy.data.worlds.new("World")
    scene.world = world
    if world.node_tree is None:
        world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.32, 0.34, 0.38, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 1.0
    render_settings(scene, size, samples)


def render_settings(scene: bpy.types.Scene, size: int, samples: int) -> None:
    """Cycles on the CPU, small and quick: few samples and bounces, denoised when OIDN is there."""
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = True
    scene.cycles.max_bounces = 4
    scene.cycles.diffuse_bounces = scene.cycles.glossy_bounces = 2
    scene.cycles.transmission_bounces = scene.cycles.volume_bounces = scene.cycles.transparent_max_bounces = 0
    try:
        import _cycles

        scene.cycles.use_denoising = bool(_cycles.with_openimagedenoise)
    except ImportError:
        scene.cycles.use_denoising = False
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.view_settings.view_transform = "Standard"


# ---------------------------------------------------------------- quick look at poses

POSES: dict[str, dict[str, float]] = {
    "rest": {},
    "jawOpen": {"jawOpen": 0.6},
    "jawOpen+mouthClose": {"jawOpen": 0.6, "mouthClose": 0.6},
    "funnel": {"mouthFunnel": 0.8, "jawOpen": 0.15},
    "pucker": {"mouthPucker": 1.0},
    "smile": {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0},
    "stretch": {"mouthStretchLeft": 0.8, "mouthStretchRight": 0.8, "jawOpen": 0.2},
    "tongueOut": {"jawOpen": 0.5, "tongueOut": 1.0},
}


def render_poses(out: Path, size: int) -> list[Path]:
    """Render each of POSES (shape-key values set by hand) to ``out/pose_<name>.png``."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    head = build_demo_head()
    setup_scene(scene, head, size)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for pose, values in POSES.items():
        for block in head.data.shape_keys.key_blocks[1:]:
            block.value = values.get(block.name, 0.0)
        scene.render.filepath = str(out / f"pose_{pose}.png")
        bpy.ops.render.render(write_still=True)
        paths.append(Path(scene.render.filepath))
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo" / "poses")
    parser.add_argument("--size", type=int, default=192)
    args = parser.parse_args(argv)
    for path in render_poses(args.out, args.size):
        print(path)


if __name__ == "__main__":
    main()

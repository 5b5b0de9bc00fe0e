"""Retargeting: from the model's channels to the shape keys a rig actually has.

A mapping is a list of rows ``target <- gain * source``: ``target`` is a shape-key name,
``source`` an ARKit channel (``"jawOpen"``) or a viseme (``"viseme:PP"``).  Rows that share
a target add up, then the sum is clipped to [0, 1].  Presets hold the mappings of the
common rig ecosystems; :func:`resolve` matches a preset's targets against a rig's key
names (tolerating case, separators, side suffixes and exporter prefixes) and
:func:`detect_preset` picks the preset that fits a rig best.

Detection rule (:func:`detect_preset`):

1. every preset is resolved against the rig's keys;
2. a preset is eligible if it matched at least :data:`MIN_MATCHED` targets and
   :data:`MIN_COVERAGE` of them (or :data:`MIN_EXACT_MATCHES` exact names), so a mesh
   with ``Basis``, ``Smile`` (or a lone ``A``) gives ``None``;
3. eligible presets whose coverage is within :data:`COVERAGE_SLACK` of the best
   coverage compete on the number of matched targets (then coverage, then exact-name
   matches, then :data:`PRESETS` order).  The richest near-complete mapping wins: a Ready
   Player Me head with all ARKit keys and all ``viseme_*`` keys resolves to ``arkit``
   (29 targets against 15) even if it lacks ``tongueOut``, while an ARKit subset next to
   a full viseme set resolves to the visemes.

Bpy-free on purpose: the Blender side only feeds key names in and values out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from .contract import (
    CHANNEL_INDEX,
    MOUTH_CHANNELS,
    RHUBARB_SHAPE_OF_VISEME,
    RHUBARB_SHAPES,
    VISEME_INDEX,
    VISEMES,
    Curves,
)

VISEME_PREFIX = "viseme:"
"""Sources that start with this name a viseme probability instead of an ARKit channel."""

MIN_MATCHED = 2
"""A preset needs at least this many matched targets to be detected."""
MIN_COVERAGE = 0.25
MIN_EXACT_MATCHES = 4
"""...or this many names spelled exactly as the preset does (a partial ARKit face with
``jawOpen``, ``mouthClose``, ``mouthFunnel``, ``mouthPucker`` is still ARKit)."""
"""... and at least this fraction of its targets."""
COVERAGE_SLACK = 0.1
"""Presets this close to the best coverage compete on how many targets they drive."""

SourceKind = Literal["channel", "viseme"]


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class MappingRow:
    """One contribution ``target += gain * source`` (see the module docstring)."""

    target: str
    source: str
    gain: float = 1.0


def parse_source(source: str) -> tuple[SourceKind, int]:
    """The kind of ``source`` and its column in ``Curves.channels`` or ``Curves.visemes``.

    Raises ValueError naming the unknown channel or viseme.
    """
    if source.startswith(VISEME_PREFIX):
        name = source[len(VISEME_PREFIX) :]
        if name not in VISEME_INDEX:
            raise ValueError(
                f"unknown viseme {name!r} in source {source!r}{_did_you_mean(name, VISEMES)}; "
                f"known visemes: {', '.join(VISEMES)}"
            )
        return "viseme", VISEME_INDEX[name]
    if source not in CHANNEL_INDEX:
        raise ValueError(
            f"unknown source {source!r}{_did_you_mean(source, MOUTH_CHANNELS)}: expected an ARKit mouth "
            f"channel ({', '.join(MOUTH_CHANNELS)}) or '{VISEME_PREFIX}<NAME>' "
            f"with NAME in {', '.join(VISEMES)}"
        )
    return "channel", CHANNEL_INDEX[source]


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    # Sources are exact identifiers; only hint at a case slip rather than guess.
    close = [k for k in known if k.casefold() == name.casefold()]
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_valid_source(source: str) -> bool:
    """Whether ``source`` names an ARKit mouth channel or ``viseme:<NAME>``."""
    try:
        parse_source(source)
    except ValueError:
        return False
    return True


def viseme_source(viseme: str) -> str:
    """The source string of a viseme, validated: ``viseme_source("PP") == "viseme:PP"``."""
    source = VISEME_PREFIX + viseme
    parse_source(source)
    return source


@dataclass(frozen=True)
class Preset:
    """A named mapping for one rig ecosystem.

    ``optional_targets`` count towards coverage only when the rig has them (CC4 keeps its
    tongue visemes on a separate tongue mesh, so a body mesh without them is complete).
    """

    id: str
    label: str
    description: str
    rows: tuple[MappingRow, ...]
    optional_targets: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for row in self.rows:
            try:
                parse_source(row.source)
            except ValueError as err:
                raise ValueError(f"preset {self.id!r}, target {row.target!r}: {err}") from None
        targets = self.targets
        if not set(targets) - self.optional_targets:
            raise ValueError(f"preset {self.id!r} has no required target")
        if stray := self.optional_targets - set(targets):
            raise ValueError(f"preset {self.id!r}: optional targets {sorted(stray)} have no row")
        # Targets that normalise alike could steal each other's keys in resolve().
        seen: dict[str, str] = {}
        for target in targets:
            other = seen.setdefault(normalize_name(target), target)
            if other != target:
                raise ValueError(f"preset {self.id!r}: targets {other!r} and {target!r} normalise alike")

    @property
    def targets(self) -> tuple[str, ...]:
        """The distinct target names, in row order."""
        return tuple(dict.fromkeys(row.target for row in self.rows))


# --------------------------------------------------------------------------- names

_SEP = r"[\s_.\-]"
_NEXT = rf"{_SEP}+(?=[^\s_.\-])"  # separators, then something left over: never strip a whole name
# Exporter / container prefixes: they say nothing about the ecosystem.
_CONTAINER = re.compile(
    rf"^(?:cc{_SEP}base{_SEP}(?:body|head|tongue)|blend{_SEP}?shapes?\d*|shape{_SEP}?keys?|key|shape"
    rf"|arkit|face|vrc){_NEXT}",
    re.IGNORECASE,
)
# Ecosystem prefixes: stripped too, but remembered as the name's family (see normalize_name).
_FAMILY = re.compile(rf"^(viseme|fcl{_SEP}?mth|v){_NEXT}", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^A-Za-z0-9]+")
_SIDE = {"l": "left", "left": "left", "r": "right", "right": "right"}
_PRESTON_SHAPES = ("AI", "E", "O", "U", "WQ", "MBP", "FV", "L", "etc", "rest")
# ``mouth_A`` is a common spelling of chart shape A; ``mouth_L`` stays ARKit's mouthLeft.
_CHART_CODES = frozenset(s.casefold() for s in (*RHUBARB_SHAPES, *_PRESTON_SHAPES)) - {"l"}


@lru_cache(maxsize=4096)
def _parse_family(name: str) -> tuple[str | None, str]:
    """``(family, normalized)`` of a shape-key name; family is the ecosystem prefix it carried."""
    rest, family = name.strip(), None
    while True:
        if m := _CONTAINER.match(rest):
            rest = rest[m.end() :]
        elif family is None and (m := _FAMILY.match(rest)):
            family = re.sub(_SEP, "", m.group(1)).casefold()  # viseme, fclmth or v
            rest = rest[m.end() :]
        else:
            break
    tokens = [t.casefold() for part in re.split(rf"{_SEP}+", rest) for t in _TOKEN.findall(part)]
    if len(tokens) >= 2 and tokens[0] == "mouth" and "".join(tokens[1:]) in _CHART_CODES:
        tokens = tokens[1:]
    if len(tokens) >= 2 and tokens[-1] in _SIDE:  # a lone "L" is Preston Blair's L, not a side
        tokens[-1] = _SIDE[tokens[-1]]
    return family, "".join(tokens)


def normalize_name(name: str) -> str:
    """A shape-key name folded for matching.

    Case, separators (``_ - . space``) and camelCase vs snake_case are ignored
    (``jaw_open``, ``jawOpen``, ``JawOpen`` -> ``jawopen``); side suffixes are spelled out
    (``mouthSmile_L``, ``mouthSmile.L``, ``mouthSmileLeft`` -> ``mouthsmileleft``); exporter
    prefixes (``Key_``, ``Shape_``, ``blendShape1.``, ``blendshape.``, ``ARKit_``, ``Face_``,
    ``CC_Base_Body.``, ``vrc.``) and ecosystem prefixes (``viseme_``, ``v_``, ``Fcl_MTH_``)
    are dropped, and ``mouth_A`` becomes the chart shape ``a``.

    Dropping ecosystem prefixes makes ``viseme_E`` and a chart key ``E`` normalise alike;
    :func:`resolve` keeps them apart: a key that carried an ecosystem prefix only matches
    targets with the same prefix, while a bare key matches any target.
    """
    return _parse_family(name)[1]


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Resolution:
    """A preset matched against one rig's shape keys."""

    preset: Preset
    rows: tuple[MappingRow, ...]
    """The preset's rows whose target was found, ``target`` replaced by the rig's key name."""
    matched: Mapping[str, str]
    """Preset target -> rig key name."""
    missing: tuple[str, ...]
    """Preset targets (optional ones included) the rig lacks."""
    coverage: float
    """Matched targets / (required targets + matched optional targets), in [0, 1]."""

    @property
    def exact_matches(self) -> int:
        """Targets found under their exact name."""
        return sum(target == key for target, key in self.matched.items())


def get_preset(preset: Preset | str) -> Preset:
    """A preset, or the preset with that id (ValueError listing the ids if unknown)."""
    if isinstance(preset, Preset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[preset]


def resolve(preset: Preset | str, shape_key_names: Iterable[str]) -> Resolution:
    """Match each target of ``preset`` to a key of the rig.

    A key with the target's exact name wins; otherwise keys with the same
    :func:`normalize_name` and a compatible family qualify, preferring one equal up to case,
    then the first in the rig's order.
    """
    preset = get_preset(preset)
    keys = list(dict.fromkeys(shape_key_names))
    present = set(keys)
    by_norm: dict[str, list[tuple[str, str | None]]] = {}
    for key in keys:
        family, norm = _parse_family(key)
        by_norm.setdefault(norm, []).append((key, family))

    matched: dict[str, str] = {}
    for target in preset.targets:
        if target in present:
            matched[target] = target
            continue
        t_family, t_norm = _parse_family(target)
        found = [key for key, family in by_norm.get(t_norm, ()) if family in (None, t_family)]
        if found:
            same_case = [key for key in found if key.casefold() == target.casefold()]
            matched[target] = (same_case or found)[0]

    required = [t for t in preset.targets if t not in preset.optional_targets]
    optional_found = sum(t in matched for t in preset.optional_targets)
    return Resolution(
        preset=preset,
        rows=tuple(
            MappingRow(matched[r.target], r.source, r.gain) for r in preset.rows if r.target in matched
        ),
        matched=matched,
        missing=tuple(t for t in preset.targets if t not in matched),
        coverage=len(matched) / (len(required) + optional_found),
    )


def detect_preset(
    shape_key_names: Iterable[str], presets: Mapping[str, Preset] | None = None
) -> Resolution | None:
    """The preset that fits the rig best, resolved, or None (rule in the module docstring)."""
    names = list(shape_key_names)
    eligible = [
        res
        for res in (resolve(p, names) for p in (PRESETS if presets is None else presets).values())
        if len(res.matched) >= MIN_MATCHED
        and (res.coverage >= MIN_COVERAGE or res.exact_matches >= MIN_EXACT_MATCHES)
    ]
    if not eligible:
        return None
    best = max(res.coverage for res in eligible)
    contenders = [res for res in eligible if res.coverage >= best - COVERAGE_SLACK - 1e-9]
    # max() keeps the first of equals, so full ties fall back to preset order.
    return max(contenders, key=lambda res: (len(res.matched), res.coverage, res.exact_matches))


# --------------------------------------------------------------------------- evaluation


def apply_mapping(curves: Curves, rows: Sequence[MappingRow]) -> dict[str, np.ndarray]:
    """Per target, float32 values per frame: the sum of ``gain * source`` clipped to [0, 1].

    Targets appear in row order; an unknown source or a non-finite gain raises ValueError.
    """
    sums: dict[str, np.ndarray] = {}
    for row in rows:
        kind, index = parse_source(row.source)
        gain = float(row.gain)
        if not math.isfinite(gain):
            raise ValueError(f"gain of {row.target!r} <- {row.source!r} is not finite: {row.gain!r}")
        column = (curves.channels if kind == "channel" else curves.visemes)[:, index]
        total = sums.setdefault(row.target, np.zeros(curves.frames, dtype=np.float64))
        total += gain * column
    return {target: np.clip(total, 0.0, 1.0).astype(np.float32) for target, total in sums.items()}


# --------------------------------------------------------------------------- presets


def _viseme_rows(table: Mapping[str, Mapping[str, float]]) -> tuple[MappingRow, ...]:
    """Rows from ``{target: {viseme: gain}}``."""
    return tuple(
        MappingRow(target, viseme_source(viseme), gain)
        for target, sources in table.items()
        for viseme, gain in sources.items()
    )


# Japanese vowel shapes (VRM, VRoid, MMD) from visemes.  Each viseme's gains sum to at most
# 1 and visemes sum to 1 per frame, so no vowel saturates on a blend.  sil and PP drive
# nothing: all vowels at 0 is the closed mouth.  Consonants borrow a little of the vowel
# whose lips look alike (s: spread, ch/r: rounded, t/d/k/n: slightly open).
_VOWELS: dict[str, dict[str, float]] = {
    "A": {"aa": 1.0, "kk": 0.3},
    "I": {"I": 1.0, "SS": 0.5, "DD": 0.2, "CH": 0.2, "FF": 0.2},
    "U": {"U": 1.0, "CH": 0.5, "RR": 0.4},
    "E": {"E": 1.0, "TH": 0.35, "DD": 0.3, "kk": 0.3, "nn": 0.3},
    "O": {"O": 1.0, "RR": 0.3},
}


def _vowel_rows(names: Mapping[str, str]) -> tuple[MappingRow, ...]:
    return _viseme_rows({names[vowel]: sources for vowel, sources in _VOWELS.items()})


_VRCHAT_SUFFIX = {
    "sil": "sil", "PP": "pp", "FF": "ff", "TH": "th", "DD": "dd", "kk": "kk", "CH": "ch", "SS": "ss",
    "nn": "nn", "RR": "rr", "aa": "aa", "E": "e", "I": "ih", "O": "oh", "U": "ou",
}  # fmt: skip

# Character Creator 3/4 (names as CC4 spells them; CC3's "Tight-O", "Open"... match too).
# iClone calls V_Tight "Pucker" and V_Lip_Open "Lips Parted".  Tongue shapes are optional.
_CC: dict[str, dict[str, float]] = {
    "V_Open": {"aa": 1.0, "E": 0.5, "O": 0.3, "kk": 0.2},
    "V_Explosive": {"PP": 1.0},
    "V_Dental_Lip": {"FF": 1.0},
    "V_Tight_O": {"O": 1.0, "U": 0.3},
    "V_Tight": {"U": 1.0, "RR": 0.5},
    "V_Wide": {"I": 1.0, "E": 0.5, "SS": 0.3},
    "V_Affricate": {"CH": 1.0},
    "V_Lip_Open": {"DD": 0.7, "nn": 0.6, "SS": 0.6, "kk": 0.6, "TH": 0.5, "RR": 0.3},
    "V_Tongue_up": {"DD": 1.0, "nn": 1.0},
    "V_Tongue_Raise": {"kk": 1.0, "CH": 0.5, "I": 0.3},
    "V_Tongue_Out": {"TH": 1.0},
    "V_Tongue_Narrow": {"SS": 0.7},
    "V_Tongue_Lower": {"aa": 0.6, "E": 0.3},
    "V_Tongue_Curl_U": {"RR": 1.0},
    "V_Tongue_Curl_D": {"SS": 0.3, "I": 0.4},
}

# Preston Blair chart as Papagayo uses it: "etc" covers most consonants, "L" the tongue-up
# ones (Oculus nn is n and l), ih sits between E and AI, r is half rounded.
_PRESTON: dict[str, dict[str, float]] = {
    "AI": {"aa": 1.0, "I": 0.4},
    "E": {"E": 1.0, "I": 0.6},
    "O": {"O": 1.0},
    "U": {"U": 1.0},
    "WQ": {"RR": 0.5},
    "MBP": {"PP": 1.0},
    "FV": {"FF": 1.0},
    "L": {"nn": 0.5},
    "etc": {"TH": 1.0, "DD": 1.0, "kk": 1.0, "CH": 1.0, "SS": 1.0, "nn": 0.5, "RR": 0.5},
    "rest": {"sil": 1.0},
}


def _build_presets() -> dict[str, Preset]:
    presets = (
        Preset(
            "arkit",
            "ARKit",
            "Apple ARKit blendshapes (jawOpen, mouthSmileLeft, ...): the model's 29 mouth channels "
            "as they are.",
            tuple(MappingRow(channel, channel) for channel in MOUTH_CHANNELS),
        ),
        Preset(
            "oculus",
            "Oculus / Ready Player Me",
            "The 15 Oculus visemes as shape keys viseme_sil ... viseme_U, each from its probability.",
            tuple(MappingRow(f"viseme_{v}", viseme_source(v)) for v in VISEMES),
        ),
        Preset(
            "vrchat",
            "VRChat",
            "VRChat viseme keys vrc.v_sil ... vrc.v_ou, each from its Oculus viseme.",
            tuple(MappingRow(f"vrc.v_{_VRCHAT_SUFFIX[v]}", viseme_source(v)) for v in VISEMES),
        ),
        Preset(
            "vrm",
            "VRM 0.x / VRoid (A I U E O)",
            "VRoid mouth keys Fcl_MTH_A/I/U/E/O (plain A, I, U, E, O match too), blended from visemes; "
            "closed consonants leave all vowels at 0.",
            _vowel_rows({v: f"Fcl_MTH_{v}" for v in _VOWELS}),
        ),
        Preset(
            "vrm1",
            "VRM 1.0 (aa ih ou ee oh)",
            "VRM 1.0 vowel expressions aa, ih, ou, ee, oh, with the same blend as the VRM 0.x preset.",
            _vowel_rows({"A": "aa", "I": "ih", "U": "ou", "E": "ee", "O": "oh"}),
        ),
        Preset(
            "mmd",
            "MMD (あ い う え お)",
            "MikuMikuDance vowel morphs あ, い, う, え, お, with the same blend as the VRM preset.",
            _vowel_rows({"A": "あ", "I": "い", "U": "う", "E": "え", "O": "お"}),
        ),
        Preset(
            "cc",
            "Character Creator 3/4",
            "Reallusion CC visemes V_Open, V_Explosive, ... and, where the mesh has them, the CC4 tongue "
            "visemes V_Tongue_*.",
            _viseme_rows(_CC),
            frozenset(t for t in _CC if t.startswith("V_Tongue")),
        ),
        Preset(
            "rhubarb",
            "Rhubarb mouth chart (A-H, X)",
            "Rhubarb Lip Sync / Hanna-Barbera mouth shapes A ... H and X (also mouth_A ...): each shape is "
            "the summed probability of the visemes it shows.",
            tuple(
                MappingRow(shape, viseme_source(v))
                for shape in RHUBARB_SHAPES
                for v in VISEMES
                if RHUBARB_SHAPE_OF_VISEME[v] == shape
            ),
        ),
        Preset(
            "preston_blair",
            "Preston Blair chart",
            "Preston Blair phoneme shapes AI, E, O, U, WQ, MBP, FV, L, etc, rest, from visemes.",
            _viseme_rows(_PRESTON),
        ),
    )
    return {preset.id: preset for preset in presets}


PRESETS: dict[str, Preset] = _build_presets()
"""The built-in presets by id, in the order detection breaks full ties."""

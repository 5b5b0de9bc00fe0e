"""The style vector: how a lip-sync is performed, independent of what is said.

The teacher renders training targets under random styles and the decoder is
modulated (FiLM) by the same vector, so a style is something the network learned,
not only a gain applied afterwards.  Every field has a neutral default, a range an
animator can reach with a slider, and a normalised form in [-1, 1] for the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np


@dataclass(frozen=True)
class StyleField:
    name: str
    low: float
    default: float
    high: float
    doc: str


STYLE_FIELDS: tuple[StyleField, ...] = (
    StyleField("intensity", 0.4, 1.0, 1.6, "overall amount of mouth motion"),
    StyleField("jaw", 0.4, 1.0, 1.8, "how far the jaw opens on vowels"),
    StyleField("lips", 0.4, 1.0, 1.8, "size of lip shapes: rounding, spreading, funnel"),
    StyleField("articulation", 0.0, 0.5, 1.0, "0 = slurred and soft, 1 = crisp, every target hit"),
    StyleField("anticipation_ms", 0.0, 60.0, 150.0, "how early a gesture starts before its sound"),
    StyleField("closure", 0.5, 1.0, 1.0, "firmness of lip closure on p, b, m (1 = pressed shut)"),
)
_FIELD = {f.name: f for f in STYLE_FIELDS}


@dataclass(frozen=True)
class Style:
    """A point in style space.  ``Style()`` is the neutral, natural performance."""

    intensity: float = 1.0
    jaw: float = 1.0
    lips: float = 1.0
    articulation: float = 0.5
    anticipation_ms: float = 60.0
    closure: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            spec = _FIELD[f.name]
            value = float(getattr(self, f.name))
            if not np.isfinite(value) or not spec.low <= value <= spec.high:
                raise ValueError(f"style {f.name}={value} is outside [{spec.low}, {spec.high}]")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def to_vector(self) -> np.ndarray:
        """Normalised vector in [-1, 1] (0 = default) for the network's FiLM input."""
        out = []
        for spec in STYLE_FIELDS:
            value = getattr(self, spec.name)
            span = (spec.high - spec.default) if value >= spec.default else (spec.default - spec.low)
            out.append(0.0 if span == 0 else (value - spec.default) / span)
        return np.asarray(out, dtype=np.float32)

    @classmethod
    def from_vector(cls, vector: np.ndarray) -> Style:
        values = {}
        clipped = np.clip(np.asarray(vector, dtype=np.float64), -1, 1)
        for spec, v in zip(STYLE_FIELDS, clipped, strict=True):
            span = (spec.high - spec.default) if v >= 0 else (spec.default - spec.low)
            values[spec.name] = float(spec.default + v * span)
        return cls(**values)

    @classmethod
    def random(cls, rng: np.random.Generator, spread: float = 1.0) -> Style:
        """A random style for training targets; ``spread`` < 1 keeps it nearer neutral."""
        return cls.from_vector(rng.uniform(-spread, spread, size=len(STYLE_FIELDS)))


STYLE_DIM = len(STYLE_FIELDS)


@dataclass(frozen=True)
class Look:
    """A named starting point for the panel: a style plus smoothing and key options."""

    label: str
    doc: str
    style: Style
    smoothing_ms: float = 60.0
    smoothing_order: int = 2
    key_mode: str = "reduced"  # "every" frame, "reduced" (simplified within a tolerance), "stepped"
    step: int = 2  # frames per key when stepped


LOOKS: dict[str, Look] = {
    "natural": Look("Natural", "neutral, realistic speech", Style()),
    "subtle": Look(
        "Subtle",
        "small, soft motion for background characters or mumbling",
        Style(intensity=0.6, jaw=0.7, lips=0.7, articulation=0.3, closure=0.8),
        smoothing_ms=90.0,
    ),
    "cartoon": Look(
        "Exaggerated / Cartoon",
        "big jaw and lip shapes, crisp targets",
        Style(intensity=1.5, jaw=1.6, lips=1.6, articulation=0.9, anticipation_ms=80.0),
        smoothing_ms=40.0,
    ),
    "snappy": Look(
        "Snappy (on twos)",
        "crisp shapes held for two frames, stepped keys as in 2D animation",
        Style(intensity=1.2, jaw=1.2, lips=1.2, articulation=1.0, anticipation_ms=40.0),
        smoothing_ms=0.0,
        key_mode="stepped",
        step=2,
    ),
}
"""Style presets offered in the panel; every value stays editable afterwards."""


def style_from_text(text: str | None, base: Style | None = None) -> Style:
    """``"intensity=1.2,jaw=0.8"`` -> a Style (fields not named keep ``base``'s values).

    Raises ValueError naming the bad item, an unknown field or an out-of-range value.
    """
    known = [f.name for f in STYLE_FIELDS]
    values = (base or Style()).as_dict()
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"{item!r} must be name=value (fields: {', '.join(known)})")
        if name not in known:
            raise ValueError(f"unknown style field {name!r}; known fields: {', '.join(known)}")
        try:
            values[name] = float(value)
        except ValueError:
            raise ValueError(f"{name}={value!r} is not a number") from None
    return Style(**values)

"""What every speech engine returns, and the errors it raises.

An engine turns text into audio plus the phone timeline it actually synthesised.
``Synth.raw`` keeps the engine's own labels; ``Synth.phones`` is the canonical
timeline (``lipsync_train.phonemes``): contiguous, from 0 to exactly the audio length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..phonemes import SILENCE, Phone, UnknownPhoneError, clean_timeline, expand_labels

RawLabel = tuple[str, float, float]


class EngineError(RuntimeError):
    """A synthesis failed (bad voice, engine crash, unusable labels); skip that sentence."""


class LabelError(EngineError):
    """The engine produced a phone symbol the canonical inventory does not know."""


@dataclass
class Synth:
    """One synthesised utterance with its exact phone timeline.

    ``audio`` is float32 mono at the engine's native rate ``sr``; ``phones`` are
    canonical and cover ``[0, len(audio) / sr]`` exactly; ``raw`` are the engine's
    labels (after the engine's own timing corrections); ``voice`` is
    ``"<engine>:<voice>"``; ``lang`` an espeak-style code; ``params`` what was used.
    """

    audio: np.ndarray
    sr: int
    phones: list[Phone]
    raw: list[RawLabel]
    engine: str
    voice: str
    lang: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Audio length in seconds."""
        return len(self.audio) / self.sr


class Engine(Protocol):
    """The interface shared by all engines."""

    name: str

    def synth(self, text: str, voice: str, **params: Any) -> Synth: ...

    def voices(self) -> list[str]: ...

    def synth_many(
        self, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None = None
    ) -> list[Synth | EngineError]: ...


def make_synth(
    audio: np.ndarray,
    sr: int,
    raw: list[RawLabel],
    *,
    engine: str,
    voice: str,
    lang: str,
    params: dict[str, Any],
    arpabet: bool,
) -> Synth:
    """Build a ``Synth``: canonicalise the raw labels and clean the timeline.

    Raises ``LabelError`` for symbols the inventory rejects and ``EngineError`` for
    empty or non-finite audio.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size == 0 or not np.isfinite(audio).all():
        raise EngineError(f"{engine}:{voice} produced no usable audio")
    if not raw:
        raise EngineError(f"{engine}:{voice} produced no phone labels")
    try:
        phones = expand_labels(raw, lang, arpabet)
    except UnknownPhoneError as exc:
        raise LabelError(f"{engine}:{voice}: {exc}") from exc
    timeline = clean_timeline(phones, len(audio) / sr)
    if all(p.label == SILENCE for p in timeline):
        raise EngineError(f"{engine}:{voice} produced only silence")
    return Synth(audio, int(sr), timeline, list(raw), engine, f"{engine}:{voice}", lang, dict(params))


def synth_each(
    engine: Engine, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None
) -> list[Synth | EngineError]:
    """``synth_many`` for engines without a batch mode: one call per text, errors kept."""
    params_list = params_list or [{} for _ in texts]
    if len(params_list) != len(texts):
        raise ValueError("params_list must have one dict per text")
    out: list[Synth | EngineError] = []
    for text, params in zip(texts, params_list, strict=True):
        try:
            out.append(engine.synth(text, voice, **params))
        except EngineError as exc:
            out.append(exc)
    return out
